package connwatch

import (
	"net"
	"time"
)

// The goroutine watcher: for connections the epoll poller cannot watch
// (not a socket, wrapped, not Linux, or epoll failed), a goroutine parks
// in a one-byte read (watchRead: a peek on unix sockets) until the
// client sends or closes.

// run is the watch itself, on the timer's goroutine.
func (w *Watcher) run() {
	defer func() { w.done <- struct{}{} }()
	// The server armed a read deadline for the request; the watch must
	// outlive it. stopReading restores one before fasthttp reads again.
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

// stopReading wakes run with a past read deadline and waits for it.
func (w *Watcher) stopReading() bool {
	w.stopped.Store(true)
	_ = w.conn.SetReadDeadline(pastDeadline)
	<-w.done
	_ = w.conn.SetReadDeadline(time.Time{})
	return !w.gotData
}
