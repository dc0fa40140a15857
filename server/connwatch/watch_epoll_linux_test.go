//go:build linux

package connwatch

import (
	"errors"
	"github.com/llmedge/llmedge/internal/wait"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/llmedge/llmedge/upstream"
)

// tcpPair is a connected loopback TCP pair: srv is the side llmedge
// would hold.
func tcpPair(t testing.TB) (srv, cli *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		acc <- c
	}()
	c, err := net.DialTimeout("tcp", ln.Addr().String(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-acc:
		if s == nil {
			t.Fatal("accept failed")
		}
		t.Cleanup(func() { s.Close(); c.Close() })
		return s.(*net.TCPConn), c.(*net.TCPConn)
	case <-time.After(2 * time.Second):
		t.Fatal("accept timed out")
	}
	return nil, nil
}

func mustPoller(t *testing.T) *poller {
	t.Helper()
	p := sharedPoller()
	if p == nil {
		t.Fatal("epoll unavailable on linux")
	}
	return p
}

func (w *Watcher) stateNow() watchState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state
}

// stop before the delay registers nothing and cancels nothing.
func TestEpollWatchStopBeforeDelay(t *testing.T) {
	p := mustPoller(t)
	srv, _ := tcpPair(t)
	var w Watcher
	var c upstream.Cancel
	before := pollRegistrations.Load()
	w.Start(srv, &c)
	if !w.Stop() {
		t.Fatal("stop reported consumed bytes")
	}
	// A late fire must not register a stopped watch.
	w.fire()
	if w.stateNow() != watchIdle || pollRegistrations.Load() != before || p.watching() != 0 || c.Canceled() {
		t.Fatalf("state %d, registrations +%d, watching %d, canceled %v", w.stateNow(), pollRegistrations.Load()-before, p.watching(), c.Canceled())
	}
}

// stop after the delay ends the watch without touching the connection's
// read deadline, and the same connection can be watched again (its next
// request, re-armed in place) — also after the one-shot event fired.
func TestEpollWatchStopAfterFire(t *testing.T) {
	p := mustPoller(t)
	srv, cli := tcpPair(t)
	var w Watcher
	var c upstream.Cancel
	// fasthttp's deadline for the request: the watch must leave it be.
	deadline := time.Now().Add(300 * time.Millisecond)
	if err := srv.SetReadDeadline(deadline); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		before := pollRegistrations.Load()
		w.Start(srv, &c)
		waitFor(t, 2*time.Second, "the registration", func() bool { return w.stateNow() == watchPolled })
		if pollRegistrations.Load() != before+1 || p.watching() != 1 {
			t.Fatalf("round %d: registrations +%d, watching %d", round, pollRegistrations.Load()-before, p.watching())
		}
		if !w.Stop() || p.watching() != 0 || c.Canceled() {
			t.Fatalf("round %d: watching %d canceled %v", round, p.watching(), c.Canceled())
		}
	}
	// The read deadline is still the one set above.
	guard := time.AfterFunc(3*time.Second, func() { cli.Close() })
	defer guard.Stop()
	_, err := srv.Read(make([]byte, 1))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read after the watches: %v, want the original deadline's timeout", err)
	}
	if err := srv.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}

	// Fired then stopped: the disarmed socket is re-armed by the next
	// watch of this connection, which sees the half-close again.
	if err := cli.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	w.Start(srv, &c)
	waitFor(t, 2*time.Second, "the cancel", c.Canceled)
	if w.stateNow() != watchPolled {
		t.Fatalf("state %d, want polled (the epoll path)", w.stateNow())
	}
	w.Stop()
	c.Reset()
	before := pollRegistrations.Load()
	w.Start(srv, &c)
	waitFor(t, 2*time.Second, "the cancel of the second watch", c.Canceled)
	if w.stateNow() != watchPolled || pollRegistrations.Load() != before+1 {
		t.Fatalf("second watch: state %d, registrations +%d", w.stateNow(), pollRegistrations.Load()-before)
	}
	w.Stop()
	if p.watching() != 0 {
		t.Fatalf("watching %d after stop", p.watching())
	}
}

// A socket left in the epoll set after its watch fires an event nobody
// claims when its client leaves later, and its closed descriptor's
// number, reused by a new connection, is registered afresh and watched
// correctly.
func TestEpollWatchStaleRegistrationAndReusedFd(t *testing.T) {
	p := mustPoller(t)
	a, aCli := tcpPair(t)
	var wa Watcher
	var ca upstream.Cancel
	wa.Start(a, &ca)
	waitFor(t, 2*time.Second, "the registration", func() bool { return wa.stateNow() == watchPolled })
	wa.Stop()

	b, _ := tcpPair(t)
	var wb Watcher
	var cb upstream.Cancel
	wb.Start(b, &cb)
	waitFor(t, 2*time.Second, "the registration of b", func() bool { return wb.stateNow() == watchPolled })
	// a's client leaves while a is not watched: its stale registration
	// fires; nothing is canceled, b still watches.
	unclaimed := pollUnclaimed.Load()
	aCli.Close()
	waitFor(t, 2*time.Second, "the stale event", func() bool { return pollUnclaimed.Load() > unclaimed })
	if ca.Canceled() || cb.Canceled() || p.watching() != 1 || wb.stateNow() != watchPolled {
		t.Fatalf("after a stale event: canceled a %v b %v, watching %d", ca.Canceled(), cb.Canceled(), p.watching())
	}
	wb.Stop()

	// a closes (leaving epoll with it); a new connection likely gets its
	// descriptor number and must be watched as itself.
	a.Close()
	c, cCli := tcpPair(t)
	var wc Watcher
	var cc upstream.Cancel
	before := pollRegistrations.Load()
	wc.Start(c, &cc)
	waitFor(t, 2*time.Second, "the registration of c", func() bool { return wc.stateNow() == watchPolled })
	if pollRegistrations.Load() != before+1 {
		t.Fatal("c was not registered with epoll")
	}
	cCli.Close()
	waitFor(t, 2*time.Second, "the cancel of c", cc.Canceled)
	wc.Stop()
	if p.watching() != 0 {
		t.Fatalf("watching %d", p.watching())
	}
}

// Connections that are not sockets keep the goroutine watcher.
func TestWatchFallbackForNonSocket(t *testing.T) {
	srv, cli := net.Pipe()
	defer srv.Close()
	var w Watcher
	var c upstream.Cancel
	w.Start(srv, &c)
	waitFor(t, 2*time.Second, "the goroutine watch", func() bool { return w.stateNow() == watchReading })
	cli.Close()
	waitFor(t, 2*time.Second, "the cancel", c.Canceled)
	if !w.Stop() {
		t.Fatal("stop reported consumed bytes")
	}
}

// Many watches registering, firing and unregistering at once leave
// nothing behind.
func TestEpollWatchManyConcurrent(t *testing.T) {
	p := mustPoller(t)
	const n = 200
	srvs, clis := make([]*net.TCPConn, n), make([]*net.TCPConn, n)
	for i := range srvs {
		srvs[i], clis[i] = tcpPair(t)
	}
	before := pollRegistrations.Load()
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var w Watcher
			var c upstream.Cancel
			for round := 0; round < 3; round++ {
				w.Start(srvs[i], &c)
				time.Sleep(time.Duration((i+round)%3) * 20 * time.Millisecond) // before, around and after the delay
				w.Stop()
				if c.Canceled() {
					errs <- "an open client's call was canceled"
					return
				}
			}
			if i%2 == 1 {
				return
			}
			clis[i].Close()
			w.Start(srvs[i], &c)
			deadline := time.Now().Add(5 * time.Second)
			for !c.Canceled() {
				if time.Now().After(deadline) {
					errs <- "a closed client's call was not canceled"
					w.Stop()
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
			w.Stop()
		}(i)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("watchers did not finish within 20s")
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if got := pollRegistrations.Load() - before; got < n/2 {
		t.Errorf("only %d epoll registrations", got)
	}
	if p.watching() != 0 {
		t.Fatalf("%d registrations leaked", p.watching())
	}
}

// BenchmarkWatchCPU is the CPU one watch costs (delay timer, begin,
// stop) for 256 requests in flight over real TCP sockets, with the
// epoll poller and with the goroutine watcher it replaces on Linux:
// process CPU time (user+sys, every thread) per watch.
func BenchmarkWatchCPU(b *testing.B) {
	const n = 256
	srvs := make([]*net.TCPConn, n)
	for i := range srvs {
		srvs[i], _ = tcpPair(b)
	}
	for _, mode := range []string{"epoll", "goroutine"} {
		b.Run(mode, func(b *testing.B) {
			p := sharedPoller()
			if mode == "goroutine" {
				thePoller = nil // sharedPoller now says epoll is unavailable
				defer func() { thePoller = p }()
			}
			ws := make([]Watcher, n)
			cs := make([]upstream.Cancel, n)
			var ru0, ru1 syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			b.ReportAllocs()
			for b.Loop() {
				for i := range ws {
					ws[i].Start(srvs[i], &cs[i])
				}
				time.Sleep(watchDelay + 15*time.Millisecond) // every watch begins, then sits
				for i := range ws {
					ws[i].Stop()
				}
			}
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			cpu := time.Duration(syscall.TimevalToNsec(ru1.Utime) - syscall.TimevalToNsec(ru0.Utime) +
				syscall.TimevalToNsec(ru1.Stime) - syscall.TimevalToNsec(ru0.Stime))
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "cpu-ns/watch")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	wait.For(t, d, what, cond)
}

// BenchmarkWatchStartStop is what a request that ends before its watch
// begins (most of them) pays for the watch: arm, then stop.
func BenchmarkWatchStartStop(b *testing.B) {
	srv, _ := tcpPair(b)
	var w Watcher
	var c upstream.Cancel
	b.ReportAllocs()
	for b.Loop() {
		w.Start(srv, &c)
		w.Stop()
	}
}
