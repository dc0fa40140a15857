package firstread

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/llmedge/llmedge/internal/allocs"
)

// tcpPair is a connected loopback TCP pair: the socket waited on and
// its peer.
func tcpPair(t *testing.T) (*net.TCPConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(); _ = peer.Close() })
	return c.(*net.TCPConn), peer
}

func rawOf(t *testing.T, c *net.TCPConn) syscall.RawConn {
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// What the wait's one read took is handed over by Read, without another
// read of the socket: with the deadline past, a socket read would fail.
func TestWaitHoldsTheFirstRead(t *testing.T) {
	c, peer := tcpPair(t)
	go func() { _, _ = peer.Write([]byte("POST / HTTP/1.1\r\n\r\n")) }()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var l Lead
	if err := l.Wait(rawOf(t, c).Read, 8<<10); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Unix(1, 0))
	var got []byte
	p := make([]byte, 4)
	for l.Buffered() > 0 {
		n := l.Read(p)
		got = append(got, p[:n]...)
	}
	if string(got) != "POST / HTTP/1.1\r\n\r\n" {
		t.Fatalf("got %q", got)
	}
	if l.buf != nil {
		t.Fatal("the buffer was kept after its bytes were taken")
	}
	if n := l.Read(p); n != 0 {
		t.Fatalf("an empty lead read %d bytes", n)
	}
}

// The wait honours the connection's read deadline and reports the
// peer's close as io.EOF, holding nothing either way.
func TestWaitDeadlineAndEOF(t *testing.T) {
	c, peer := tcpPair(t)
	var l Lead
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if err := l.Wait(rawOf(t, c).Read, 8<<10); !errors.Is(err, os.ErrDeadlineExceeded) || l.Buffered() != 0 {
		t.Fatalf("past the deadline: %v, %d held", err, l.Buffered())
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_ = peer.Close()
	if err := l.Wait(rawOf(t, c).Read, 8<<10); err != io.EOF || l.Buffered() != 0 {
		t.Fatalf("after the peer closed: %v, %d held", err, l.Buffered())
	}
}

// A wait and the reads of its bytes allocate nothing.
func TestWaitAllocs(t *testing.T) {
	c, peer := tcpPair(t)
	rc := rawOf(t, c)
	msg := []byte("0123456789")
	p := make([]byte, len(msg))
	var l Lead
	allocs.None(t, "a first-bytes wait", 200, func() {
		_, _ = peer.Write(msg)
		if err := l.Wait(rc.Read, 4<<10); err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(msg); {
			if l.Buffered() == 0 {
				if err := l.Wait(rc.Read, 4<<10); err != nil {
					t.Fatal(err)
				}
			}
			n += l.Read(p[n:])
		}
	})
}

// Buffers come from the pool of the smallest class that holds the size
// asked for, and go back to the pool of their own size.
func TestSizeClasses(t *testing.T) {
	for _, tc := range []struct{ size, class int }{{1, 0}, {4 << 10, 0}, {4<<10 + 1, 1}, {8 << 10, 1}, {64 << 10, 4}, {1 << 20, 4}} {
		if got := class(tc.size); got != tc.class {
			t.Errorf("class(%d) = %d, want %d", tc.size, got, tc.class)
		}
		b := bufs[class(tc.size)].Get().(*[]byte)
		if len(*b) < min(tc.size, 64<<10) {
			t.Errorf("size %d: a buffer of %d bytes", tc.size, len(*b))
		}
		put(b)
	}
}
