package connwatch

import (
	"net"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// fasthttp waits for a kept-alive connection's next request by reading
// its first byte alone (Server.ReduceMemoryUsage); lfConn answers that
// wait with one read syscall whose other bytes the parser's next read
// gets without touching the socket. With the read deadline past, a
// socket read would fail: the rest of the head must come from the wait's
// read.
func TestFirstByteWaitReadsTheHeadOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wl := Listen(ln, 8<<10)
	defer wl.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	c, err := wl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	head := "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
	for round := range 2 { // a new connection's first request, then a kept-alive one's
		if _, err := peer.Write([]byte(head)); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		var first [1]byte
		if n, err := c.Read(first[:]); n != 1 || err != nil || first[0] != 'G' {
			t.Fatalf("round %d: first byte %q, %d, %v", round, first[0], n, err)
		}
		_ = c.SetReadDeadline(time.Unix(1, 0))
		rest := make([]byte, 8191)
		n, err := c.Read(rest)
		if err != nil || string(rest[:n]) != head[1:] {
			t.Fatalf("round %d: the rest of the head: %q, %v (a second read syscall?)", round, rest[:n], err)
		}
		if lc := c.(*lfConn); lc.head || lc.bad {
			t.Fatalf("round %d: head end not seen (head %v, bad %v)", round, lc.head, lc.bad)
		}
		TrackHeads(c, fasthttp.StateIdle)
	}
}
