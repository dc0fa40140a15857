package connwatch

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// watchDelay is how long a request runs, at least, before its client
// connection is watched (at most twice that: arming.go). Under load most
// answers take over a millisecond only because they queue, and a watch
// costs a registration (or, off Linux, a goroutine, a read syscall and
// three deadline updates); LLM calls last hundreds of milliseconds to
// minutes, so a client that leaves is still noticed within 50ms of its
// request's start, or at once when the request is already older than
// that.
const watchDelay = 25 * time.Millisecond

// Canceler stops the call a watched request is waiting on.
type Canceler interface{ Cancel() }

// begun counts the watches that began (their delay ran out), either
// kind: Begun.
var begun atomic.Uint64

// Begun is how many watches have begun since the process started
// (diagnostics; tests wait on it instead of sleeping past the delay).
func Begun() uint64 { return begun.Load() }

// Watcher notices a client that goes away while its request
// is in flight (waiting for the upstream, or mid-stream) and cancels the
// upstream call at once, like net/http's background read. fasthttp does
// not read a connection while its handler or body writer runs, so the
// socket is free to watch.
//
// On Linux a TCP connection is registered with one process-wide epoll
// instance (watch_epoll_linux.go): no goroutine, no deadline change per
// watched request. Other connections (in-memory listeners, fasthttp's
// MaxConnsPerIP wrapper, other systems, or an epoll failure) get a
// goroutine parked in a one-byte read (watch_goroutine.go).
type Watcher struct {
	conn   net.Conn
	cancel Canceler
	// armedAt is the arming tick the watch was armed in; prev and next
	// link it into the armed list while its delay runs (arming.go).
	armedAt    uint64
	prev, next *Watcher

	// mu orders start, the timer's fire, stop and the poller's event
	// for this watcher: none of them waits for another beyond it.
	mu    sync.Mutex
	state watchState
	poll  pollWatch // the epoll registration (state == watchPolled)

	// The goroutine watcher (state == watchReading).
	done    chan struct{}
	stopped atomic.Bool
	gotData bool
}

type watchState uint8

const (
	watchIdle    watchState = iota // not watching
	watchArmed                     // the delay runs (on the armed list)
	watchPolled                    // registered with the shared epoll poller
	watchReading                   // a goroutine reads the connection
)

var pastDeadline = time.Unix(1, 0)

// Start arms the watch: it begins after watchDelay (up to twice that)
// unless stop comes first.
func (w *Watcher) Start(conn net.Conn, cancel Canceler) {
	if w.done == nil {
		w.done = make(chan struct{}, 1)
	}
	w.mu.Lock()
	w.conn = conn
	w.cancel = cancel
	w.state = watchArmed
	w.mu.Unlock()
	armed.add(w)
}

// fire begins the watch, on the arming goroutine (a goroutine watcher
// gets a goroutine of its own). A late fire of an earlier request's
// arming may begin this request's watch early, which is harmless; it
// never begins one twice (the state says).
func (w *Watcher) fire() {
	w.mu.Lock()
	if w.state != watchArmed {
		w.mu.Unlock()
		return
	}
	begun.Add(1)
	if w.pollStart() {
		w.state = watchPolled
		w.mu.Unlock()
		return
	}
	w.state = watchReading
	w.stopped.Store(false)
	w.gotData = false
	w.mu.Unlock()
	go w.run()
}

// Conn is the connection being watched (nil before the first Start).
func (w *Watcher) Conn() net.Conn { return w.conn }

// Stop ends the watch and reports whether the connection can serve
// another request (false when the watcher consumed client bytes). It
// runs before fasthttp reads or closes the connection again.
func (w *Watcher) Stop() bool {
	if w.conn == nil {
		return true
	}
	armed.remove(w)
	w.mu.Lock()
	state := w.state
	w.state = watchIdle
	if state == watchPolled {
		w.pollStop()
	}
	w.mu.Unlock()
	if state != watchReading {
		return true
	}
	return w.stopReading()
}
