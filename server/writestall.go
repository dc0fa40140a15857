package server

import (
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// clientWriteTimeout is the default of Options.ClientWriteTimeout: how
// long one write to a client may block. A client that stops reading (a
// paused process, whose kernel keeps the connection open with a zero
// window) would otherwise hold the connection goroutine, the upstream
// call, its rate-limit hold and the answer in memory for as long as it
// lives: the disconnect watcher only sees a client that closes. It
// applies to streams (each event) and to complete answers (each part of
// answerBody), so a slow reader that makes progress is never cut.
// fasthttp's WriteTimeout alone cannot serve here: it bounds the whole
// response, and streams last minutes. It is set to this timeout all the
// same (server.go), so every response starts under the deadline, other
// routes' and error responses too; a model route's answer moves it
// while it is written (armDeadline).
var clientWriteTimeout = 2 * time.Minute

// clientWrite is the writing of a call's answer to its client: the
// write deadline, the time spent blocked writing and how it ended. Part
// of the pooled call.
type clientWrite struct {
	// ctx is the request: a non-stream call's finish runs in the
	// handler with it, and a stream's write deadline is set through it
	// while fasthttp writes the response.
	ctx *fasthttp.RequestCtx
	// deadline is the client write deadline, kept timeout ahead of the
	// last write.
	deadline time.Time
	timeout  time.Duration
	// cut is set by Shutdown when the grace ran out with the stream
	// open (shutdown.go).
	cut atomic.Bool
	// wait is the time the answer spent blocked writing to the client.
	wait time.Duration
	// bw, set for a stream whose client connection times its blocked
	// writes, is that connection (flushEvents).
	bw blockedWriter
	// err is how the stream's relay (or the answer's write) ended badly.
	err error
}

// blockedWriter is a client connection that times how long its writes
// wait: connwatch's, writing through rawio. counts is false when it
// does not (then the caller times its writes itself).
type blockedWriter interface {
	WriteBlocked() (d time.Duration, counts bool)
}

// armDeadline keeps the call's write deadline at least half of its
// timeout ahead of now, moving it only then (once a minute, not
// once per event). fasthttp clears a deadline set through the
// RequestCtx once the response is written, so the connection's next
// request is not affected. The caller serializes calls (the response's
// writer; keepaliveBody holds its mutex).
//
// A stream cut by Shutdown keeps the short deadline the cut set.
func (o *clientWrite) armDeadline(now time.Time) {
	if o.deadline.Sub(now) > o.timeout/2 || o.cut.Load() {
		return
	}
	o.deadline = now.Add(o.timeout)
	_ = o.ctx.SetWriteDeadline(o.deadline)
}

// armedAt records the write deadline fasthttp arms before it writes a
// response (Server.WriteTimeout is the client write timeout), so that
// the answer starts under it instead of setting one of its own, which
// fasthttp would then clear: two timer updates per request fewer. now
// is taken before fasthttp's own clock read, so the deadline recorded
// is never later than the one armed. Not for a hijacked connection
// (HTTP/1.0 streams): fasthttp clears its deadlines before the hijack.
func (o *clientWrite) armedAt(now time.Time) { o.deadline = now.Add(o.timeout) }
