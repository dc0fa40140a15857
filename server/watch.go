package server

import (
	"net"
	"sync/atomic"
	"time"

	"github.com/llmedge/llmedge/upstream"
)

// watchDelay is how long a request runs before its client connection is
// watched. Under load most answers take over a millisecond only because
// they queue, and a watch costs a goroutine, a read syscall and three
// deadline updates; LLM calls last hundreds of milliseconds to minutes,
// so a client that leaves is still noticed within 25ms of its request's
// start, or at once when the request is already older than that.
const watchDelay = 25 * time.Millisecond

// disconnectWatcher notices a client that goes away while its request
// is in flight (waiting for the upstream, or mid-stream) and cancels the
// upstream call at once, like net/http's background read. fasthttp does
// not read a connection while its handler or body writer runs, so a
// one-byte read here sees EOF when the client closes.
type disconnectWatcher struct {
	conn    net.Conn
	cancel  *upstream.Cancel
	timer   *time.Timer
	done    chan struct{}
	stopped atomic.Bool
	gotData bool
}

var pastDeadline = time.Unix(1, 0)

// start arms the watch: it begins after watchDelay unless stop comes
// first.
func (w *disconnectWatcher) start(conn net.Conn, cancel *upstream.Cancel) {
	w.conn = conn
	w.cancel = cancel
	w.stopped.Store(false)
	w.gotData = false
	if w.timer == nil {
		w.done = make(chan struct{}, 1)
		w.timer = time.AfterFunc(watchDelay, w.run)
		return
	}
	w.timer.Reset(watchDelay)
}

// run is the watch itself, on the timer's goroutine.
func (w *disconnectWatcher) run() {
	defer func() { w.done <- struct{}{} }()
	// The server armed a read deadline for the request; the watch must
	// outlive it. stop() restores one before fasthttp reads again.
	_ = w.conn.SetReadDeadline(time.Time{})
	if w.stopped.Load() {
		return
	}
	var b [1]byte
	n, consumed, err := w.watchRead(b[:])
	if n > 0 {
		w.gotData = consumed
	} else if err != nil && !w.stopped.Load() {
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			w.cancel.Cancel()
		}
	}
}

// stop ends the watch and reports whether the connection can serve
// another request (false when the watcher consumed client bytes).
func (w *disconnectWatcher) stop() bool {
	if w.conn == nil {
		return true
	}
	w.stopped.Store(true)
	if w.timer.Stop() {
		// The watch never began: nothing to undo.
		return true
	}
	_ = w.conn.SetReadDeadline(pastDeadline)
	<-w.done
	_ = w.conn.SetReadDeadline(time.Time{})
	return !w.gotData
}
