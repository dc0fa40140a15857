package server

import "time"

// clientWriteTimeout is the default of Options.ClientWriteTimeout: how
// long one write to a client may block. A client that stops reading (a
// paused process, whose kernel keeps the connection open with a zero
// window) would otherwise hold the connection goroutine, the upstream
// call, its rate-limit hold and the answer in memory for as long as it
// lives: the disconnect watcher only sees a client that closes. It
// applies to streams (each event) and to complete answers (each part of
// answerBody), so a slow reader that makes progress is never cut.
// fasthttp's WriteTimeout cannot serve here: it bounds the whole
// response, and streams last minutes.
var clientWriteTimeout = 2 * time.Minute

// armWriteDeadline keeps the call's write deadline at least half of its
// writeTimeout ahead of now, moving it only then (once a minute, not
// once per event). fasthttp clears a deadline set through the
// RequestCtx once the response is written, so the connection's next
// request is not affected. The caller serializes calls (the response's
// writer; keepaliveBody holds its mutex).
//
// A stream cut by Shutdown keeps the short deadline the cut set.
func (o *callObs) armWriteDeadline(now time.Time) {
	if o.writeDeadline.Sub(now) > o.writeTimeout/2 || o.cut.Load() {
		return
	}
	o.writeDeadline = now.Add(o.writeTimeout)
	_ = o.ctx.SetWriteDeadline(o.writeDeadline)
}
