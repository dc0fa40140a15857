// Package rawio reads and writes a TCP connection's non-blocking socket
// with raw syscalls (on Linux, without -race: syscalls.go), parked in
// the runtime's poller when it would block.
//
// A net.Conn read or write tells the Go scheduler it enters a syscall
// and leaves it (entersyscall, exitsyscall): the goroutine's P may be
// handed to another thread meanwhile, and the monitor thread (sysmon)
// is woken from its sleep when the process was idle. A read or write of
// a non-blocking socket never blocks in the kernel (it returns EAGAIN
// instead, and the wait is the poller's), so that bookkeeping buys
// nothing on it: the P stays with the goroutine. On llmedge's client
// and upstream connections it took 3-8% off the CPU per request under
// wrk -c64, ~2.5% off the CPU per streamed event, and at 200 req/s half
// the context switches and a third less CPU per request: sysmon is no
// longer woken by each request (docs/performance.md).
//
// It owns the raw syscalls only: deadlines, the poller's waits and the
// connection's life stay the net package's (syscall.RawConn), and
// errors are shaped as net's (*net.OpError, io.EOF). It must not be
// used on anything but a plain TCP connection (TLS reads its own).
package rawio

import (
	"io"
	"net"
	"os"
	"syscall"
)

// Conn is a TCP connection's raw read and write. One goroutine reads
// and one writes at a time (as net.Conn's users do); the steps handed
// to the poller are bound once, so a read or write allocates nothing.
type Conn struct {
	tc *net.TCPConn
	rc syscall.RawConn
	r  op
	w  op
	// dl, when set (DeferDeadlines), holds the deadlines set through
	// Conn until a read or write has to wait.
	dl *Deadlines
}

// op is one direction's state: the buffer, what was done and the
// syscall's failure; step is its callback for the poller.
type op struct {
	p   []byte
	n   int
	err syscall.Errno
	eof bool
	// waited: this call's step found the socket not ready.
	waited bool
	// ext is a caller's own step (ReadWith) instead of read.
	ext  func(fd uintptr) bool
	c    *Conn
	step func(fd uintptr) bool
}

// Init makes c the raw read and write of tc, whose socket rc is (from
// tc.SyscallConn, which the caller has taken already). A Conn is held
// by value in its connection wrapper: a read or write then touches one
// object less, and with many connections open each is a cache miss.
func (c *Conn) Init(tc *net.TCPConn, rc syscall.RawConn) {
	*c = Conn{tc: tc, rc: rc}
	c.r.c, c.w.c = c, c
	c.r.step, c.w.step = c.r.run, c.w.run
}

// Ready reports whether Init made c; a zero Conn is not.
func (c *Conn) Ready() bool { return c.rc != nil }

// run is one step of a read or write for the poller: false (wait) when
// the socket is not ready, after arming a deferred deadline the wait
// must not outlast.
func (o *op) run(fd uintptr) bool {
	var done bool
	switch {
	case o.ext != nil:
		done = o.ext(fd)
	case o == &o.c.r:
		done = o.read(fd)
	default:
		done = o.write(fd)
	}
	if !done && o.c.dl != nil {
		o.waited = true
		o.c.dl.beforeWait(o.c, o == &o.c.r)
	}
	return done
}

// read is one read of the socket: false (wait in the poller) on EAGAIN.
func (o *op) read(fd uintptr) bool {
	for {
		n, e := ReadFD(fd, o.p)
		switch e {
		case 0:
			o.n, o.eof = n, n == 0
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		o.err = e
		return true
	}
}

// write writes all of p: false (wait in the poller) while the socket's
// buffer is full.
func (o *op) write(fd uintptr) bool {
	for len(o.p) > 0 {
		n, e := sysWrite(fd, o.p)
		switch e {
		case 0:
			o.n += n
			o.p = o.p[n:]
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			o.err = e
			return true
		}
	}
	return true
}

// poll runs o's step until it is done, parked in the poller between
// tries; with deferred deadlines, a deadline armed earlier than the one
// set since (it fired first) is moved and the wait goes on.
func (c *Conn) poll(o *op) error {
	for {
		o.waited = false
		var err error
		if o == &c.r {
			err = c.rc.Read(o.step)
		} else {
			err = c.rc.Write(o.step)
		}
		if c.dl == nil || (err == nil && !o.waited) || !c.dl.afterWait(c, o == &c.r, err) {
			return err
		}
	}
}

// Read reads into p as net.Conn's Read does.
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	o := &c.r
	o.p, o.n, o.err, o.eof = p, 0, 0, false
	err := c.poll(o)
	o.p = nil
	switch {
	case err != nil:
		return 0, c.opError("read", unwrapRaw(err))
	case o.err != 0:
		return 0, c.opError("read", os.NewSyscallError("read", o.err))
	case o.eof:
		return 0, io.EOF
	}
	return o.n, nil
}

// ReadWith runs step as the connection's read (syscall.RawConn.Read's
// callback: true when done, false to wait until the socket is
// readable), under the connection's read deadline. Its errors are the
// poller's (a deadline, the connection closed), shaped as Read's.
func (c *Conn) ReadWith(step func(fd uintptr) bool) error {
	o := &c.r
	o.ext = step
	err := c.poll(o)
	o.ext = nil
	if err != nil {
		return c.opError("read", unwrapRaw(err))
	}
	return nil
}

// RawConn is c's socket as a syscall.RawConn whose Read and Write run
// their steps as ReadWith does: under c's deadlines, deferred or not.
func (c *Conn) RawConn() syscall.RawConn { return rawConn{c} }

type rawConn struct{ c *Conn }

func (r rawConn) Control(f func(fd uintptr)) error { return r.c.rc.Control(f) }

func (r rawConn) Read(f func(fd uintptr) bool) error { return r.c.ReadWith(f) }

func (r rawConn) Write(f func(fd uintptr) bool) error {
	o := &r.c.w
	o.ext = f
	err := r.c.poll(o)
	o.ext = nil
	if err != nil {
		return r.c.opError("write", unwrapRaw(err))
	}
	return nil
}

// Write writes all of p as net.Conn's Write does.
func (c *Conn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	o := &c.w
	o.p, o.n, o.err = p, 0, 0
	err := c.poll(o)
	o.p = nil
	switch {
	case err != nil:
		return o.n, c.opError("write", unwrapRaw(err))
	case o.err != 0:
		return o.n, c.opError("write", os.NewSyscallError("write", o.err))
	}
	return o.n, nil
}

// unwrapRaw is the poller's failure (a deadline, the connection closed)
// without net's "raw-read"/"raw-write" wrapping.
func unwrapRaw(err error) error {
	if op, ok := err.(*net.OpError); ok {
		return op.Err
	}
	return err
}

func (c *Conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.tc.LocalAddr(), Addr: c.tc.RemoteAddr(), Err: err}
}
