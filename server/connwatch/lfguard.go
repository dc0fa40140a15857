package connwatch

import (
	"bytes"
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/llmedge/llmedge/internal/firstread"
	"github.com/llmedge/llmedge/internal/rawio"

	"github.com/valyala/fasthttp"
)

// ErrBareLFHeaderEnd: a request's header block ended with a blank line
// terminated by a bare LF ("\n\n", or "\r\n" after a line ended by a
// bare LF) before any CRLFCRLF.
var ErrBareLFHeaderEnd = errors.New("the request's header block ends with a bare LF: end it with CRLF CRLF")

// fasthttp accepts a bare LF at the end of a request or header line
// (RFC 9112 §2.2 allows it) but ends the header block only at a
// CRLFCRLF, so that it frames requests as a proxy in front of it would;
// a request whose blank line ends in a bare LF ("GET / HTTP/1.1\n...\n\n")
// made it wait for more bytes until the read timeout. llmedge keeps
// fasthttp's framing and refuses such a request at once with 400:
// lfConn watches the bytes of each request head as they are read and,
// once it has seen the head end that way, fails the read fasthttp then
// makes for more. Only head bytes are scanned (from the start of each
// request until its CRLFCRLF; a few hundred bytes with IndexByte);
// bodies and streams pass untouched. A request pipelined behind another
// one in the same read is not scanned (its bytes arrived with the
// previous request's) and may still wait for the read timeout.

// Listen wraps ln so that the TCP connections it accepts have their
// request heads checked (lfConn); pair it with TrackHeads as the
// server's ConnState hook. readSize is the server's read buffer size:
// the wait for a request's first bytes reads as much as the server's
// buffered read would have.
func Listen(ln net.Listener, readSize int) net.Listener { return lfListener{ln, readSize} }

// lfListener wraps the TCP connections it accepts in lfConn.
type lfListener struct {
	net.Listener
	readSize int
}

func (l lfListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok && err == nil {
		lc := &lfConn{TCPConn: tc, head: true, readSize: l.readSize}
		if rc, err := tc.SyscallConn(); err == nil {
			lc.io.Init(tc, rc, &lc.dl)
		}
		return lc, nil
	}
	return c, err
}

// lfConn is a client connection whose request heads are checked for a
// bare-LF end. The embedded *net.TCPConn keeps SyscallConn and the rest
// for the disconnect watcher. Only the connection's goroutine reads it
// while head is set (fasthttp reads; ConnState runs on that goroutine).
type lfConn struct {
	// io reads and writes the socket without the scheduler's syscall
	// bookkeeping (package rawio); not Ready: through the TCPConn. Held
	// by value and first: a streamed event's write touches the
	// wrapper's first lines only.
	io rawio.Conn
	*net.TCPConn
	// dl holds the deadlines fasthttp sets (three per kept-alive
	// request) until a read or write has to wait (rawio.Deadlines).
	dl rawio.Deadlines
	// head: the bytes being read are a request head, up to its end.
	head bool
	// bad: this head ended with a bare-LF blank line.
	bad bool
	// last are the head's last three bytes before this read.
	last [3]byte
	// lead holds the first read of a request head (package
	// firstread).
	lead     firstread.Lead
	readSize int
}

func (c *lfConn) Read(p []byte) (n int, err error) {
	if c.bad {
		return 0, ErrBareLFHeaderEnd
	}
	switch {
	case c.lead.Buffered() > 0:
		n = c.lead.Read(p)
	case c.head && len(p) == 1 && c.io.Ready():
		// fasthttp's wait for the next request without a read buffer
		// (Server.ReduceMemoryUsage reads its first byte alone): the
		// wait and one read syscall, whose bytes the parser's next read
		// takes from the lead instead of a second syscall.
		if err = c.lead.Wait(c.io.ReadWith, c.readSize); err != nil {
			return 0, err
		}
		n = c.lead.Read(p)
	case c.io.Ready():
		n, err = c.io.Read(p)
	default:
		n, err = c.TCPConn.Read(p)
	}
	if c.head && n > 0 {
		c.scan(p[:n])
	}
	return n, err
}

// Write writes p to the client.
func (c *lfConn) Write(p []byte) (int, error) {
	if c.io.Ready() {
		return c.io.Write(p)
	}
	return c.TCPConn.Write(p)
}

// WriteBlocked is the time writes to the client spent waiting for the
// socket to take their bytes (rawio.Conn.WriteBlocked); counts is false
// when the connection is not written through rawio.
func (c *lfConn) WriteBlocked() (d time.Duration, counts bool) {
	if c.io.Ready() {
		return c.io.WriteBlocked(), true
	}
	return 0, false
}

// SyscallConn is the socket, read and written under io's deadlines
// (the goroutine watcher's peek waits in it and is stopped by one).
func (c *lfConn) SyscallConn() (syscall.RawConn, error) {
	if c.io.Ready() {
		return c.io.RawConn(), nil
	}
	return c.TCPConn.SyscallConn()
}

// SetDeadline, SetReadDeadline and SetWriteDeadline go through io,
// which defers them to the waits they bound.
func (c *lfConn) SetDeadline(t time.Time) error {
	if c.io.Ready() {
		return c.io.SetDeadline(t)
	}
	return c.TCPConn.SetDeadline(t)
}

func (c *lfConn) SetReadDeadline(t time.Time) error {
	if c.io.Ready() {
		return c.io.SetReadDeadline(t)
	}
	return c.TCPConn.SetReadDeadline(t)
}

func (c *lfConn) SetWriteDeadline(t time.Time) error {
	if c.io.Ready() {
		return c.io.SetWriteDeadline(t)
	}
	return c.TCPConn.SetWriteDeadline(t)
}

// scan looks at each LF of b for the blank line that ends the head: LF
// right after LF (bare-LF blank line: bad), or LF after "\n\r": good
// when the LF before it had its CR (CRLFCRLF), bad otherwise.
func (c *lfConn) scan(b []byte) {
	for i := 0; ; i++ {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			break
		}
		i += j
		p1 := c.at(b, i-1)
		if p1 == '\n' {
			c.bad = true
			return
		}
		if p1 == '\r' && c.at(b, i-2) == '\n' {
			if c.at(b, i-3) == '\r' {
				c.head = false
			} else {
				c.bad = true
			}
			return
		}
	}
	switch len(b) {
	case 1:
		c.last = [3]byte{c.last[1], c.last[2], b[0]}
	case 2:
		c.last = [3]byte{c.last[2], b[0], b[1]}
	default:
		c.last = [3]byte(b[len(b)-3:])
	}
}

// at is b[i], or for i < 0 one of the head's bytes before b.
func (c *lfConn) at(b []byte, i int) byte {
	if i >= 0 {
		return b[i]
	}
	return c.last[3+i]
}

// TrackHeads is the server's ConnState hook: once a response is done
// the next bytes of the connection are a new request head.
func TrackHeads(c net.Conn, st fasthttp.ConnState) {
	if lc, ok := c.(*lfConn); ok && st == fasthttp.StateIdle {
		lc.head, lc.bad, lc.last = true, false, [3]byte{}
	}
}
