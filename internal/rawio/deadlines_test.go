package rawio

import (
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// deferred is tc's raw read and write with deferred deadlines.
func deferred(t *testing.T, tc *net.TCPConn) (*Conn, *Deadlines) {
	if !supported {
		t.Skip("on Windows a Conn is not Ready: its users read through net")
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	c, d := new(Conn), new(Deadlines)
	c.Init(tc, rc, d)
	return c, d
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// sendAfter writes msg to c after d, on its own goroutine.
func sendAfter(t *testing.T, c *net.TCPConn, d time.Duration, msg string) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(d)
		_, _ = c.Write([]byte(msg))
	}()
	t.Cleanup(func() {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("the sender did not end")
		}
	})
}

// Read deadlines set before reads that do not wait are never armed on
// the socket, and a write deadline only when it is the earlier one (an
// HTTP server sets three per request; a request read whole and an
// answer the socket takes at once need none of them). A read that
// waits arms its deadline and fails at it as net's do.
func TestDeferredDeadlinesArmOnlyToWait(t *testing.T) {
	a, b := tcpPair(t)
	wa := conn(t, a)
	_ = a.SetDeadline(time.Now().Add(10 * time.Second))
	rb, d := deferred(t, b)
	buf := make([]byte, 64)
	for i := range 100 {
		now := time.Now()
		if err := rb.SetReadDeadline(now.Add(2 * time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := rb.SetWriteDeadline(now.Add(2 * time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := wa.Write([]byte("request")); err != nil {
			t.Fatal(err)
		}
		if n, err := readFull(rb, buf[:7]); err != nil || n != 7 {
			t.Fatalf("read %d: %d %v", i, n, err)
		}
		if _, err := rb.Write([]byte("answer")); err != nil {
			t.Fatal(err)
		}
		if _, err := readFull(wa, buf[:6]); err != nil {
			t.Fatal(err)
		}
	}
	if n := d.Arms(); n != 1 {
		t.Fatalf("%d deadlines armed for reads and writes that never waited, want 1 (the first write deadline)", n)
	}
	_ = rb.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	start := time.Now()
	_, err := rb.Read(buf)
	if !isTimeout(err) {
		t.Fatalf("a read waiting past its deadline: %v, want a timeout", err)
	}
	if e := time.Since(start); e < 40*time.Millisecond || e > 5*time.Second {
		t.Fatalf("the deadline 50 ms ahead fired after %v", e)
	}
	if n := d.Arms(); n != 2 {
		t.Fatalf("%d deadlines armed, want 2 (the wait's and the first write deadline)", n)
	}
}

// readFull reads len(p) bytes from c.
func readFull(c *Conn, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := c.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// A deadline armed by an earlier wait that comes before the one set
// since fires early, before a wait or during one: the wait it ends arms
// the later one and goes on, so the read gets bytes that come after it.
func TestDeferredDeadlineFiringEarlyIsMoved(t *testing.T) {
	a, b := tcpPair(t)
	_ = a.SetDeadline(time.Now().Add(10 * time.Second))
	rb, d := deferred(t, b)
	buf := make([]byte, 16)
	// Fired before the next read: a wait armed 50 ms and timed out.
	_ = rb.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := rb.Read(buf); !isTimeout(err) {
		t.Fatalf("read past its deadline: %v", err)
	}
	_ = rb.SetReadDeadline(time.Now().Add(5 * time.Second))
	sendAfter(t, a, 100*time.Millisecond, "one")
	if n, err := rb.Read(buf); err != nil || string(buf[:n]) != "one" {
		t.Fatalf("read after the earlier deadline fired: %q %v", buf[:n], err)
	}
	// Fired during the wait: 200 ms armed by a wait the bytes end
	// (or, on a slow machine, by one that times out: the same either
	// way for what follows), then 5 s asked for and bytes 400 ms on.
	_ = rb.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	sendAfter(t, a, 10*time.Millisecond, "two")
	if n, err := rb.Read(buf); err == nil && string(buf[:n]) != "two" {
		t.Fatalf("read: %q", buf[:n])
	} else if err != nil && !isTimeout(err) {
		t.Fatal(err)
	} else if err != nil { // the slow machine's way
		_ = rb.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := readFull(rb, buf[:3]); err != nil || string(buf[:n]) != "two" {
			t.Fatalf("read: %q %v", buf[:n], err)
		}
	}
	_ = rb.SetReadDeadline(time.Now().Add(5 * time.Second))
	sendAfter(t, a, 400*time.Millisecond, "three")
	if n, err := rb.Read(buf); err != nil || string(buf[:n]) != "three" {
		t.Fatalf("read across the earlier deadline: %q %v", buf[:n], err)
	}
	if n := d.Arms(); n != 4 {
		t.Fatalf("%d deadlines armed, want 4 (three waits' and one moved)", n)
	}
	// Cleared: the fired deadline no longer bounds the read.
	_ = rb.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := rb.Read(buf); !isTimeout(err) {
		t.Fatalf("read past its deadline: %v", err)
	}
	_ = rb.SetReadDeadline(time.Time{})
	sendAfter(t, a, 100*time.Millisecond, "four")
	if n, err := rb.Read(buf); err != nil || string(buf[:n]) != "four" {
		t.Fatalf("read with the deadline cleared: %q %v", buf[:n], err)
	}
}

// A deadline earlier than the one armed bounds the next wait: the wait
// arms it first.
func TestDeferredDeadlineEarlierThanArmedBoundsTheWait(t *testing.T) {
	a, b := tcpPair(t)
	_ = a.SetDeadline(time.Now().Add(10 * time.Second))
	rb, _ := deferred(t, b)
	buf := make([]byte, 16)
	_ = rb.SetReadDeadline(time.Now().Add(time.Hour))
	sendAfter(t, a, 10*time.Millisecond, "one")
	if _, err := rb.Read(buf); err != nil { // arms the hour
		t.Fatal(err)
	}
	_ = rb.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	start := time.Now()
	if _, err := rb.Read(buf); !isTimeout(err) {
		t.Fatalf("read past its deadline: %v", err)
	}
	if e := time.Since(start); e > 5*time.Second {
		t.Fatalf("the 50 ms deadline fired after %v", e)
	}
}

// A deadline set while a read or a write waits (a watcher stopping its
// read, a shutdown cutting a stream whose client does not read) wakes
// it, as net.Conn's does.
func TestDeferredDeadlineWakesAWait(t *testing.T) {
	_, b := tcpPair(t)
	rb, _ := deferred(t, b)
	errc := make(chan error, 1)
	go func() {
		_, err := rb.Read(make([]byte, 16))
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	_ = rb.SetReadDeadline(time.Unix(1, 0))
	select {
	case err := <-errc:
		if !isTimeout(err) {
			t.Fatalf("the waiting read: %v, want a timeout", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a past deadline did not wake the waiting read")
	}

	// a never reads: the write fills both socket buffers and waits.
	wb := rb
	big := make([]byte, 64<<20)
	type result struct {
		n   int
		err error
	}
	wc := make(chan result, 1)
	go func() {
		n, err := wb.Write(big)
		wc <- result{n, err}
	}()
	time.Sleep(100 * time.Millisecond)
	_ = wb.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	select {
	case r := <-wc:
		if !isTimeout(r.err) || r.n == 0 || r.n == len(big) {
			t.Fatalf("the waiting write: %d bytes, %v; want a timeout after a part", r.n, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a deadline set while the write waited did not end it")
	}
}

// ReadWith (a caller's own read step: firstread's wait for a request)
// waits under the deferred read deadline and fails as Read does.
func TestDeferredDeadlineBoundsReadWith(t *testing.T) {
	a, b := tcpPair(t)
	rb, d := deferred(t, b)
	buf := make([]byte, 16)
	var got int
	step := func(fd uintptr) bool {
		n, e := ReadFD(fd, buf)
		if e == syscall.EAGAIN {
			return false
		}
		got = n
		return true
	}
	_ = rb.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	err := rb.ReadWith(step)
	var op *net.OpError
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &op) || op.Op != "read" {
		t.Fatalf("ReadWith past its deadline: %v", err)
	}
	_ = rb.SetReadDeadline(time.Now().Add(5 * time.Second))
	sendAfter(t, a, 100*time.Millisecond, "hello")
	if err := rb.ReadWith(step); err != nil || string(buf[:got]) != "hello" {
		t.Fatalf("ReadWith: %q %v", buf[:got], err)
	}
	if n := d.Arms(); n != 2 {
		t.Fatalf("%d deadlines armed, want 2", n)
	}
}

// A write deadline moved later since it was armed: a write that waits
// past the armed one goes on until the one asked for, and gets through
// when the peer reads in between.
func TestDeferredWriteDeadlineFiringEarlyIsMoved(t *testing.T) {
	a, b := tcpPair(t)
	wb, d := deferred(t, b)
	_ = wb.SetWriteDeadline(time.Now().Add(100 * time.Millisecond)) // armed: the first
	_ = wb.SetWriteDeadline(time.Now().Add(5 * time.Second))        // recorded
	big := make([]byte, 64<<20)
	drained := make(chan int64, 1)
	go func() {
		time.Sleep(250 * time.Millisecond) // past the armed deadline
		_ = a.SetReadDeadline(time.Now().Add(10 * time.Second))
		var n int64
		buf := make([]byte, 1<<20)
		for n < int64(len(big)) {
			m, err := a.Read(buf)
			n += int64(m)
			if err != nil {
				break
			}
		}
		drained <- n
	}()
	if n, err := wb.Write(big); err != nil || n != len(big) {
		t.Fatalf("the write across the earlier deadline: %d bytes, %v", n, err)
	}
	select {
	case n := <-drained:
		if n != int64(len(big)) {
			t.Fatalf("the peer read %d bytes", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the peer did not finish reading")
	}
	if n := d.Arms(); n != 2 {
		t.Fatalf("%d deadlines armed, want 2", n)
	}
}
