package server

import (
	"net"
	"sync/atomic"
	"time"

	"github.com/llmedge/llmedge/upstream"
)

// disconnectWatcher notices a client that goes away while its request
// is in flight (waiting for the upstream, or mid-stream) and cancels the
// upstream call at once, like net/http's background read. fasthttp does
// not read a connection while its handler or body writer runs, so a
// one-byte read here sees EOF when the client closes.
type disconnectWatcher struct {
	conn    net.Conn
	cancel  *upstream.Cancel
	done    chan struct{}
	stopped atomic.Bool
	gotData bool
}

var pastDeadline = time.Unix(1, 0)

func (w *disconnectWatcher) start(conn net.Conn, cancel *upstream.Cancel) {
	w.conn = conn
	w.cancel = cancel
	w.stopped.Store(false)
	w.gotData = false
	if w.done == nil {
		w.done = make(chan struct{}, 1)
	}
	// The server armed a read deadline for the request; the watch must
	// outlive it. stop() restores one before fasthttp reads again.
	_ = conn.SetReadDeadline(time.Time{})
	go w.run()
}

func (w *disconnectWatcher) run() {
	var b [1]byte
	n, err := w.conn.Read(b[:])
	if n > 0 {
		w.gotData = true
	} else if err != nil && !w.stopped.Load() {
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			w.cancel.Cancel()
		}
	}
	w.done <- struct{}{}
}

// stop ends the watch and reports whether the connection can serve
// another request (false when the watcher consumed client bytes).
func (w *disconnectWatcher) stop() bool {
	if w.conn == nil {
		return true
	}
	w.stopped.Store(true)
	_ = w.conn.SetReadDeadline(pastDeadline)
	<-w.done
	_ = w.conn.SetReadDeadline(time.Time{})
	return !w.gotData
}
