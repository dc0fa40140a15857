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
// It owns the raw syscalls only (on Linux and the other Unix systems;
// on Windows a Conn is never Ready, and its users go through net):
// deadlines, the poller's waits and the connection's life stay the net
// package's (syscall.RawConn), and errors are shaped as net's
// (*net.OpError, io.EOF). It must not be used on anything but a plain
// TCP connection (TLS reads its own).
package rawio

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// Conn is a TCP connection's raw read and write. One goroutine reads
// and one writes at a time (as net.Conn's users do); the steps handed
// to the poller are bound once, so a read or write allocates nothing.
type Conn struct {
	rc syscall.RawConn
	// dl, when set (Init), holds the deadlines set through Conn until
	// a read or write has to wait.
	dl *Deadlines
	tc *net.TCPConn
	r  op
	w  op
	// ext is a caller's own read step (ReadWith, RawConn), run by
	// extStep.
	ext, extStep func(fd uintptr) bool
	// blockedAt is when the write under way first found the socket's
	// buffer full (zero: it has not); blocked sums the time writes
	// spent waiting (WriteBlocked).
	blockedAt time.Time
	blocked   time.Duration
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
	step   func(fd uintptr) bool
	c      *Conn
}

// Init makes c the raw read and write of tc, whose socket rc is (from
// tc.SyscallConn, which the caller has taken already). With dl, c keeps
// its deadlines there (Deadlines): they are then set through c's
// SetDeadline, SetReadDeadline and SetWriteDeadline only, and the
// socket is read and written through c (Read, Write, ReadWith, RawConn)
// only. A Conn is held by value in its connection wrapper: a read or
// write then touches one object less, and with many connections open
// each is a cache miss.
func (c *Conn) Init(tc *net.TCPConn, rc syscall.RawConn, dl *Deadlines) {
	if !supported { // Windows: not Ready (syscalls_windows.go)
		*c = Conn{}
		return
	}
	*c = Conn{tc: tc, rc: rc, dl: dl}
	c.r.c, c.w.c = c, c
	c.r.step, c.w.step = c.r.read, c.w.write
	if dl != nil {
		c.r.step = c.r.readDeferred
	}
}

// Ready reports whether Init made c; a zero Conn is not.
func (c *Conn) Ready() bool { return c.rc != nil }

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
			if o.c.blockedAt.IsZero() {
				o.c.blockedAt = time.Now() // read the clock only to wait
			}
			return false
		default:
			o.err = e
			return true
		}
	}
	return true
}

// readDeferred and runExt (ReadWith's) are the read steps under
// deferred deadlines: before the poller waits, the deadline the wait
// must not outlast is armed. (A write deadline is armed when set if it
// is the earlier one: Deadlines.)
func (o *op) readDeferred(fd uintptr) bool {
	if o.read(fd) {
		return true
	}
	o.beforeWait()
	return false
}

func (o *op) runExt(fd uintptr) bool {
	if o.c.ext(fd) {
		return true
	}
	if o.c.dl != nil {
		o.beforeWait()
	}
	return false
}

func (o *op) beforeWait() {
	o.waited = true
	o.c.dl.beforeWait(o.c)
}

// rewait ends a wait under deferred deadlines: while it failed only
// because a deadline armed before the one asked for fired, the one
// asked for is armed and step runs again.
func (c *Conn) rewait(o *op, step func(fd uintptr) bool, err error) error {
	read := o == &c.r
	for c.dl.afterWait(c, read, err) {
		o.waited = false
		if read {
			err = c.rc.Read(step)
		} else {
			err = c.rc.Write(step)
		}
		if err == nil && !o.waited {
			break
		}
	}
	return err
}

// Read reads into p as net.Conn's Read does.
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	o := &c.r
	o.p, o.n, o.err, o.eof, o.waited = p, 0, 0, false, false
	err := c.rc.Read(o.step)
	if c.dl != nil && (err != nil || o.waited) {
		err = c.rewait(o, o.step, err)
	}
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
	if c.extStep == nil {
		c.extStep = o.runExt
	}
	c.ext, o.waited = step, false
	err := c.rc.Read(c.extStep)
	if c.dl != nil && (err != nil || o.waited) {
		err = c.rewait(o, c.extStep, err)
	}
	c.ext = nil
	if err != nil {
		return c.opError("read", unwrapRaw(err))
	}
	return nil
}

// RawConn is c's socket as a syscall.RawConn whose Read runs its step
// as ReadWith does, and whose Write waits under c's write deadline.
func (c *Conn) RawConn() syscall.RawConn { return rawConn{c} }

type rawConn struct{ c *Conn }

func (r rawConn) Control(f func(fd uintptr)) error { return r.c.rc.Control(f) }

func (r rawConn) Read(f func(fd uintptr) bool) error { return r.c.ReadWith(f) }

func (r rawConn) Write(f func(fd uintptr) bool) error {
	c := r.c
	err := c.rc.Write(f)
	if c.dl != nil && err != nil {
		err = c.rewait(&c.w, f, err)
	}
	if err != nil {
		return c.opError("write", unwrapRaw(err))
	}
	return nil
}

// WriteBlocked is the time c's writes have spent waiting for the
// socket's buffer to take their bytes, in all. The clock is read only
// by writes that wait: one whose bytes the socket takes at once costs
// nothing, and adds nothing.
func (c *Conn) WriteBlocked() time.Duration { return c.blocked }

// Write writes all of p as net.Conn's Write does.
func (c *Conn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	o := &c.w
	o.p, o.n, o.err = p, 0, 0
	err := c.rc.Write(o.step)
	if c.dl != nil && err != nil {
		err = c.rewait(o, o.step, err)
	}
	if !c.blockedAt.IsZero() {
		c.blocked += time.Since(c.blockedAt)
		c.blockedAt = time.Time{}
	}
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
