package rawio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/llmedge/llmedge/internal/allocs"
)

// tcpPair is a connected loopback pair, closed when the test ends.
func tcpPair(t *testing.T) (a, b *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		done <- c
	}()
	c, err := net.DialTimeout("tcp", ln.Addr().String(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var s net.Conn
	select {
	case s = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("accept timed out")
	}
	if s == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { _ = c.Close(); _ = s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// conn is tc's raw read and write.
func conn(t *testing.T, tc *net.TCPConn) *Conn {
	t.Helper()
	if !supported {
		t.Skip("on Windows a Conn is not Ready: its users read through net")
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	c := new(Conn)
	c.Init(tc, rc, nil)
	return c
}

// Bytes cross whole and in order when the writer outruns the socket
// buffers (writes wait in the poller) and the reader waits for them
// (reads wait); the end of the stream is io.EOF.
func TestRawIOCarriesAStreamBothWays(t *testing.T) {
	a, b := tcpPair(t)
	wa, rb := conn(t, a), conn(t, b)
	_ = a.SetDeadline(time.Now().Add(10 * time.Second))
	_ = b.SetDeadline(time.Now().Add(10 * time.Second))
	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB: more than the socket buffers hold
	errc := make(chan error, 1)
	go func() {
		n, err := wa.Write(want)
		if err == nil && n != len(want) {
			err = io.ErrShortWrite
		}
		_ = a.CloseWrite()
		errc <- err
	}()
	var got []byte
	buf := make([]byte, 4096)
	for {
		n, err := rb.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read after %d bytes: %v", len(got), err)
		}
	}
	if err := <-errc; err != nil {
		t.Fatalf("write: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, want the %d written, in order", len(got), len(want))
	}
}

// A read waits under the connection's deadline and fails as net's
// does: a net.Error whose Timeout is true.
func TestRawIOReadDeadline(t *testing.T) {
	a, _ := tcpPair(t)
	_ = a.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	start := time.Now()
	_, err := conn(t, a).Read(make([]byte, 16))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past the deadline: %v, want a timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the deadline fired after %v", d)
	}
}

// A reset and a closed connection fail as net's reads and writes do
// (*net.OpError, errors.Is ECONNRESET / net.ErrClosed): failure.go
// tells upstream failures apart by them.
func TestRawIOErrorsAreNets(t *testing.T) {
	a, b := tcpPair(t)
	_ = b.SetLinger(0)
	_ = b.Close() // RST
	_ = a.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := conn(t, a).Read(make([]byte, 16))
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "read" || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read of a reset connection: %#v", err)
	}
	c, _ := tcpPair(t)
	rc := conn(t, c)
	_ = c.Close()
	if _, err := rc.Write([]byte("x")); !errors.Is(err, net.ErrClosed) || !errors.As(err, &op) || op.Op != "write" {
		t.Fatalf("write to a closed connection: %v", err)
	}
	if _, err := rc.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read of a closed connection: %v", err)
	}
}

// A read and a write allocate nothing (the poller's steps are bound
// once per connection); run without -race by .ci/run, which is also
// where the raw syscalls themselves run (under -race they are
// syscall.Read and syscall.Write: syscalls.go).
func TestRawIOAllocs(t *testing.T) {
	a, b := tcpPair(t)
	wa, rb := conn(t, a), conn(t, b)
	msg, buf := []byte("ping"), make([]byte, 16)
	allocs.None(t, "a raw write and read", 200, func() {
		if _, err := wa.Write(msg); err != nil {
			t.Fatal(err)
		}
		if n, err := rb.Read(buf); err != nil || n == 0 {
			t.Fatal(n, err)
		}
	})
}

// WriteBlocked sums the time writes waited for the socket's buffer: a
// write the socket takes at once adds nothing (and reads no clock); one
// that waits for the peer to read adds that wait.
func TestWriteBlockedCountsOnlyWaits(t *testing.T) {
	a, b := tcpPair(t)
	wa := conn(t, a)
	_ = a.SetDeadline(time.Now().Add(10 * time.Second))
	_ = b.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 64)
	for range 100 {
		if _, err := wa.Write([]byte("event")); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	if d := wa.WriteBlocked(); d != 0 {
		t.Fatalf("writes that never waited: blocked %v", d)
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		_, _ = io.Copy(io.Discard, b)
	}()
	big := make([]byte, 64<<20) // more than both socket buffers hold
	start := time.Now()
	if _, err := wa.Write(big); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if d := wa.WriteBlocked(); d < 150*time.Millisecond || d > took {
		t.Fatalf("a write that waited for the peer: blocked %v of %v", d, took)
	}
}
