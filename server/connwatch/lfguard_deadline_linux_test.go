//go:build linux

package connwatch

import (
	"net"
	"testing"
	"time"

	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// lfPair is a client connection as the server holds it (lfConn, from
// Listen) and its peer.
func lfPair(t *testing.T) (*lfConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wl := Listen(ln, 8<<10)
	defer wl.Close()
	peer, err := net.DialTimeout("tcp", ln.Addr().String(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c, err := wl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(); _ = peer.Close() })
	lc := c.(*lfConn)
	if !lc.io.Ready() {
		t.Fatal("the accepted connection reads through rawio")
	}
	return lc, peer
}

// The goroutine watcher (the fallback when epoll cannot watch a
// connection) peeks through the connection's SyscallConn, whose waits
// follow the deferred deadlines of lfConn: the read deadline fasthttp
// left armed fires during the watch without ending it, a stop wakes
// it, and a client that closes is seen.
func TestGoroutineWatchOnDeferredDeadlines(t *testing.T) {
	lc, peer := lfPair(t)
	// A request read under a 1 s read deadline, armed by its wait.
	_ = lc.SetReadDeadline(time.Now().Add(time.Second))
	go func() {
		time.Sleep(10 * time.Millisecond)
		_, _ = peer.Write([]byte("G"))
	}()
	var b [1]byte
	if n, err := lc.Read(b[:]); n != 1 || err != nil {
		t.Fatalf("the request: %d %v", n, err)
	}
	lc.head = false
	goroutineWatch := func(c *upstream.Cancel) *Watcher {
		w := &Watcher{conn: lc, cancel: c, done: make(chan struct{}, 1), state: watchReading}
		go w.run()
		return w
	}
	var c upstream.Cancel
	w := goroutineWatch(&c)
	time.Sleep(1200 * time.Millisecond) // past the armed deadline
	select {
	case <-w.done:
		t.Fatalf("the watch ended when the request's read deadline passed (canceled %v)", c.Canceled())
	default:
	}
	stopped := make(chan bool, 1)
	go func() {
		w.mu.Lock()
		w.state = watchIdle
		w.mu.Unlock()
		stopped <- w.stopReading()
	}()
	select {
	case reuse := <-stopped:
		if !reuse || c.Canceled() {
			t.Fatalf("stop: reusable %v, canceled %v", reuse, c.Canceled())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stop did not wake the watch's peek")
	}

	var c2 upstream.Cancel
	w = goroutineWatch(&c2)
	_ = peer.Close()
	waitFor(t, 5*time.Second, "the cancel on the client's close", c2.Canceled)
	select {
	case <-w.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the watch did not end")
	}
}

// A fasthttp server sets three deadlines per kept-alive request (the
// idle wait's, the read timeout at the first byte, the write timeout
// before the answer); on lfConn they are armed on the socket only for
// the waits they bound. Once a connection's read and write deadlines
// are armed, its kept-alive requests arm none (until an armed one fires
// early: not here).
func TestKeptAliveRequestsArmNoDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan *lfConn, 1)
	srv := &fasthttp.Server{
		Handler:           func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("ok") },
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		ReduceMemoryUsage: true,
		ConnState: func(c net.Conn, s fasthttp.ConnState) {
			if s == fasthttp.StateNew {
				conns <- c.(*lfConn)
			}
			TrackHeads(c, s)
		},
	}
	go func() { _ = srv.Serve(Listen(ln, 4<<10)) }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	hc := &fasthttp.HostClient{Addr: ln.Addr().String(), MaxConns: 1}
	do := func() {
		t.Helper()
		code, body, err := hc.GetTimeout(nil, "http://"+ln.Addr().String()+"/", 5*time.Second)
		if err != nil || code != 200 || string(body) != "ok" {
			t.Fatalf("%d %q %v", code, body, err)
		}
	}
	do()
	var lc *lfConn
	select {
	case lc = <-conns:
	case <-time.After(5 * time.Second):
		t.Fatal("no connection")
	}
	arms := lc.dl.Arms
	// The read deadline is armed the first time a read has to wait,
	// and when that is depends on how fast the client's next request
	// comes: the pause makes it the wait for the second request, before
	// the 50 are counted.
	time.Sleep(20 * time.Millisecond)
	do()
	first := arms()
	for range 50 {
		do()
	}
	if n := arms() - first; n != 0 {
		t.Fatalf("50 kept-alive requests armed %d deadlines on the socket, want 0 (the first armed %d)", n, first)
	}
}
