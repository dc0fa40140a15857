package server

import "time"

// streamWriteTimeout bounds how long one write of a stream to its
// client may block. A client that stops reading (a paused process, whose
// kernel keeps the connection open with a zero window) would otherwise
// hold the connection goroutine, the upstream call and its rate-limit
// hold forever: the disconnect watcher only sees a client that closes.
// fasthttp's WriteTimeout cannot serve here: it bounds the whole
// response, and streams last minutes.
var streamWriteTimeout = 2 * time.Minute

// armWriteDeadline keeps the stream's write deadline at least half of
// streamWriteTimeout ahead of now, moving it only then (once a minute,
// not once per event). fasthttp clears a deadline set through the
// RequestCtx once the response is written, so the connection's next
// request is not affected. The caller serializes calls (the stream's
// writer; keepaliveBody holds its mutex).
//
// A stream cut by Shutdown keeps the short deadline the cut set.
func (o *callObs) armWriteDeadline(now time.Time) {
	if o.writeDeadline.Sub(now) > streamWriteTimeout/2 || o.cut.Load() {
		return
	}
	o.writeDeadline = now.Add(streamWriteTimeout)
	_ = o.ctx.SetWriteDeadline(o.writeDeadline)
}
