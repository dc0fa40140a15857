package transport

import (
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/llmedge/llmedge/internal/rawio"
)

// Upstreams close keep-alive connections that sit idle (uvicorn and
// Node after 5 s, many proxies after 15-60 s). A pooled connection the
// upstream closed stays in CLOSE_WAIT, holding its socket and file
// descriptor, until fasthttp's idle timeout (90 s) or its next use
// notices; after a burst of streams that is one socket per stream. So
// every idle pooled connection is probed once per idleProbeInterval with
// a non-blocking peek, and closed when the upstream closed or reset it,
// or sent bytes nobody asked for (a TLS close_notify, garbage): none of
// these can carry another request. A request costs two uncontended
// lock/unlock pairs (idle list in, idle list out); the probe costs one
// syscall per idle connection per interval, off the request path.

// idleProbeInterval bounds how long a connection the upstream closed
// lingers in CLOSE_WAIT.
const idleProbeInterval = time.Second

// trackedConn is a pooled upstream connection with the socket to probe.
type trackedConn struct {
	// io reads and writes a plain socket (not Ready under TLS); held by
	// value and first, so that a read or write touches one object less
	// (a streamed event's read finds it cold).
	io rawio.Conn
	// dl holds a plain socket's deadlines until a read or write has to
	// wait (rawio.Deadlines): an exchange sets one per request (its
	// answer's deadline) and its body reads another, and the socket's
	// timer is then updated about once per timeout instead.
	dl rawio.Deadlines
	net.Conn
	raw   syscall.RawConn // the TCP socket (under TLS for https); never nil: trackConn makes every trackedConn
	state atomic.Int32
	// prev and next link the idle list (idleConns.mu).
	prev, next *trackedConn
}

const (
	connBusy    int32 = iota // in use, or fresh from the dial
	connIdle                 // in the pool, listed
	connProbing              // being peeked by the sweeper
	connClosed
)

// trackConn wraps c (the connection used, TLS or not) for idle probing
// of sock (its TCP socket); connections without a socket (in-memory
// test listeners) are returned as they are.
func trackConn(c, sock net.Conn) net.Conn {
	sc, ok := sock.(syscall.Conn)
	if !ok || !canProbe {
		return c
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return c
	}
	t := &trackedConn{Conn: c, raw: raw}
	if tc, plain := c.(*net.TCPConn); plain { // then sock is c: raw is its socket
		t.io.Init(tc, raw, &t.dl)
	}
	return t
}

// Read reads the connection; a plain socket without the scheduler's
// syscall bookkeeping (package rawio).
func (t *trackedConn) Read(p []byte) (int, error) {
	if t.io.Ready() {
		return t.io.Read(p)
	}
	return t.Conn.Read(p)
}

// Write writes the connection, as Read reads it.
func (t *trackedConn) Write(p []byte) (int, error) {
	if t.io.Ready() {
		return t.io.Write(p)
	}
	return t.Conn.Write(p)
}

// SetDeadline sets the connection's deadlines; a plain socket's are
// armed when a wait needs them (rawio.Deadlines).
func (t *trackedConn) SetDeadline(d time.Time) error {
	if t.io.Ready() {
		return t.io.SetDeadline(d)
	}
	return t.Conn.SetDeadline(d)
}

// SetReadDeadline sets the read deadline, as SetDeadline does.
func (t *trackedConn) SetReadDeadline(d time.Time) error {
	if t.io.Ready() {
		return t.io.SetReadDeadline(d)
	}
	return t.Conn.SetReadDeadline(d)
}

// SetWriteDeadline sets the write deadline, as SetDeadline does.
func (t *trackedConn) SetWriteDeadline(d time.Time) error {
	if t.io.Ready() {
		return t.io.SetWriteDeadline(d)
	}
	return t.Conn.SetWriteDeadline(d)
}

// Handshake keeps a TLS connection recognisable as one to fasthttp,
// which hands a connection without this method to its own TLS client.
func (t *trackedConn) Handshake() error {
	if h, ok := t.Conn.(interface{ Handshake() error }); ok {
		return h.Handshake()
	}
	return nil
}

// Close closes the connection and takes it off the idle list.
func (t *trackedConn) Close() error {
	if t.state.Swap(connClosed) != connClosed {
		idleConns.remove(t)
	}
	return t.Conn.Close()
}

// idle is called when the connection goes back to the pool.
func (t *trackedConn) idle() {
	idleConns.add(t)
	t.state.Store(connIdle)
}

// busy is called when the pool hands the connection out; false means the
// sweeper closed it (the upstream had).
func (t *trackedConn) busy() bool {
	for {
		if t.state.CompareAndSwap(connIdle, connBusy) {
			idleConns.remove(t)
			return true
		}
		switch t.state.Load() {
		case connProbing:
			runtime.Gosched() // one non-blocking syscall
		case connClosed:
			return false
		default:
			return true
		}
	}
}

// idleSet lists the idle tracked connections of every pool.
type idleSet struct {
	mu      sync.Mutex
	head    trackedConn // sentinel of a circular list
	started bool
}

var idleConns idleSet

func (s *idleSet) add(t *trackedConn) {
	s.mu.Lock()
	if s.head.next == nil {
		s.head.next, s.head.prev = &s.head, &s.head
	}
	if !s.started {
		s.started = true
		go s.sweepEvery(idleProbeInterval)
	}
	if t.next == nil {
		t.prev, t.next = s.head.prev, &s.head
		s.head.prev.next = t
		s.head.prev = t
	}
	s.mu.Unlock()
}

func (s *idleSet) remove(t *trackedConn) {
	s.mu.Lock()
	if t.next != nil {
		t.prev.next, t.next.prev = t.next, t.prev
		t.prev, t.next = nil, nil
	}
	s.mu.Unlock()
}

func (s *idleSet) sweepEvery(d time.Duration) {
	var batch []*trackedConn
	for range time.Tick(d) {
		batch = s.sweep(batch)
	}
}

// sweep probes every listed connection and closes those that cannot
// serve another request. The list is copied first so no probe runs
// under the lock.
func (s *idleSet) sweep(batch []*trackedConn) []*trackedConn {
	s.mu.Lock()
	for t := s.head.next; t != nil && t != &s.head; t = t.next {
		batch = append(batch, t)
	}
	s.mu.Unlock()
	for i, t := range batch {
		batch[i] = nil
		if !t.state.CompareAndSwap(connIdle, connProbing) {
			continue
		}
		if peerDone(t.raw) {
			_ = t.Close()
		} else {
			t.state.CompareAndSwap(connProbing, connIdle)
		}
	}
	return batch[:0]
}
