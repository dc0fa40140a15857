// Package firstread waits for the first bytes of a socket without
// holding a read buffer while it waits, and without a read syscall more
// than a plain read makes.
//
// A connection that idles between requests (a kept-alive client
// connection, an upstream connection waiting for its answer) should not
// hold a read buffer: 10,000 open connections would hold 80 MB of them.
// The usual way, a one-byte read followed by a read of the rest, costs a
// second read syscall per request. Lead instead parks in Go's poller
// with no buffer (syscall.RawConn.Read) and takes a pooled buffer only
// for the read syscall that runs once the socket is readable: it holds
// what that read returned until its owner has taken it (Read), then
// gives the buffer back. So a request costs the syscalls of a plain read
// (one read, or an EAGAIN read and one more after the wait) and the
// buffer is held only between that read and the parser's next read.
//
// It knows nothing of HTTP: its users (server/connwatch's client
// connection, upstream/transport's exchange) decide when to wait.
package firstread

import (
	"io"
	"os"
	"sync"
	"syscall"

	"github.com/llmedge/llmedge/internal/rawio"
)

// The pooled buffers come in sizes of 4 KiB to 64 KiB, powers of two.
// A wait reads as much as the parser's buffer would have (its size
// rounded up to a class), so the bytes taken from the socket, and the
// ones left in it, are the same as with a one-byte read and a buffered
// read: a server that closes a connection with bytes unread makes the
// kernel reset it instead of closing it cleanly.
const (
	minClass   = 12 // 4 KiB
	numClasses = 5  // up to 64 KiB
)

var bufs [numClasses]sync.Pool

func init() {
	for i := range bufs {
		size := 1 << (minClass + i)
		bufs[i].New = func() any { b := make([]byte, size); return &b }
	}
}

// class is the pool of the smallest buffer of at least size bytes
// (the largest for larger sizes).
func class(size int) int {
	for i := range numClasses - 1 {
		if size <= 1<<(minClass+i) {
			return i
		}
	}
	return numClasses - 1
}

// put gives b back to the pool of its size.
func put(b *[]byte) { bufs[class(cap(*b))].Put(b) }

// Lead is the first bytes read from a socket, held until taken. The
// zero value is ready. Once it has waited it keeps its waiter, so it
// must not be copied then (set a new one, as an exchange's reset with a
// struct literal does, instead).
type Lead struct {
	buf    *[]byte
	off, n int
	// w is the waiter of this Lead's waits: taken from its pool on the
	// first Wait and kept, so a connection's next wait, one per
	// request, costs no pool round trip for it.
	w *waiter
}

// waiter is one wait's state, pooled with its read function bound once
// so that a wait does not allocate; it holds no buffer while parked.
type waiter struct {
	pool *sync.Pool
	buf  *[]byte
	n    int
	err  error
	read func(fd uintptr) bool
}

var waiters = sync.Pool{New: func() any { w := new(waiter); w.read = w.readFD; return w }}

// Wait blocks until the socket has bytes (read into a pooled buffer of
// at least size bytes), reached end of stream (io.EOF) or failed; the
// read deadline set on the connection applies. read runs a read step
// in the poller: a syscall.RawConn's Read, or rawio.Conn's ReadWith.
// Nothing is held on return of an error.
func (l *Lead) Wait(read func(step func(fd uintptr) bool) error, size int) error {
	l.Release()
	w := l.w
	if w == nil {
		w = waiters.Get().(*waiter)
		l.w = w
	}
	w.pool, w.buf, w.n, w.err = &bufs[class(size)], nil, 0, nil
	err := read(w.read)
	if err == nil {
		err = w.err
	}
	if err == nil {
		l.buf, l.off, l.n = w.buf, 0, w.n
	} else if w.buf != nil {
		put(w.buf)
	}
	w.pool, w.buf, w.err = nil, nil, nil
	return err
}

// readFD is the read that runs when the socket is readable: true when
// done (bytes, end of stream or an error), false to wait in the poller.
func (w *waiter) readFD(fd uintptr) bool {
	b := w.pool.Get().(*[]byte)
	for {
		n, err := rawio.ReadFD(fd, *b)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			w.pool.Put(b)
			return false
		case err != 0:
			w.pool.Put(b)
			w.err = os.NewSyscallError("read", err)
		case n == 0:
			w.pool.Put(b)
			w.err = io.EOF
		default:
			w.buf, w.n = b, n
		}
		return true
	}
}

// Buffered is how many read bytes are waiting to be taken.
func (l *Lead) Buffered() int { return l.n - l.off }

// Read takes held bytes into p (at most len(p)); once all are taken the
// buffer goes back to its pool. It returns 0 when nothing is held.
func (l *Lead) Read(p []byte) int {
	if l.buf == nil {
		return 0
	}
	n := copy(p, (*l.buf)[l.off:l.n])
	l.off += n
	if l.off == l.n {
		l.Release()
	}
	return n
}

// Release drops what is held (a connection closed before it was read).
func (l *Lead) Release() {
	if l.buf != nil {
		put(l.buf)
		l.buf, l.off, l.n = nil, 0, 0
	}
}
