//go:build linux

package server

import (
	"errors"
	"sync"
	"sync/atomic"
	"syscall"
)

// The epoll watcher: every watched client socket is registered with one
// process-wide epoll instance for EPOLLRDHUP (the client shut its write
// side or closed) with EPOLLHUP/EPOLLERR implied, one-shot. One
// goroutine, started with the first watch, blocks in epoll_wait (a
// blocking syscall: it holds a thread, not a P) and cancels the upstream
// call of a watcher whose client is gone. A watched request costs an
// epoll_ctl ADD and DEL, and nothing while it runs: no goroutine, no
// timer wake, no read deadline change (fasthttp's deadlines are never
// touched). EPOLLIN is not asked for, so a request the client pipelines
// behind the one in flight fires nothing and stays for fasthttp.
//
// epoll data carries a token, never a pointer: the poller maps tokens to
// watchers, and a watcher acts on an event only while it is registered
// with that very token, so an event that races stop (or the watcher's
// reuse for the next request) is dropped. Every use of the socket goes
// through RawConn.Control, which holds the descriptor open: a connection
// closed meanwhile (fasthttp's shutdown) makes Control fail instead of
// touching a descriptor number reused by another connection; closing a
// socket removes it from epoll by itself.

// pollWatch is a watcher's registration with the poller.
type pollWatch struct {
	rc    syscall.RawConn
	token uint64
	fired bool // the one-shot event was handled: nothing more will come
}

// poller is the shared epoll instance.
type poller struct {
	epfd int
	mu   sync.Mutex
	next uint64
	ws   map[uint64]*disconnectWatcher
}

var (
	pollerOnce sync.Once
	thePoller  *poller // nil when epoll is unavailable
	// pollRegistrations counts epoll registrations (tests assert the
	// epoll path ran).
	pollRegistrations atomic.Uint64
)

// sharedPoller returns the process's poller, started on first use, or
// nil if epoll cannot be set up (the goroutine watcher takes over).
func sharedPoller() *poller {
	pollerOnce.Do(func() {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			return
		}
		thePoller = &poller{epfd: fd, ws: make(map[uint64]*disconnectWatcher)}
		go thePoller.loop()
	})
	return thePoller
}

const pollEvents = syscall.EPOLLRDHUP | syscall.EPOLLONESHOT // EPOLLHUP, EPOLLERR implied

// The 64-bit epoll data is the Fd and Pad fields of syscall.EpollEvent
// (whatever padding precedes them on the architecture).
func setPollToken(ev *syscall.EpollEvent, token uint64) {
	ev.Fd = int32(uint32(token))
	ev.Pad = int32(uint32(token >> 32))
}

func pollToken(ev *syscall.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

// pollStart registers w's connection with the poller; false means the
// goroutine watcher must watch it. Called with w.mu held.
func (w *disconnectWatcher) pollStart() bool {
	p := sharedPoller()
	if p == nil {
		return false
	}
	sc, ok := w.conn.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	// Mapped before ADD: the event may come at once (the poller then
	// waits for w.mu, held until the registration is recorded).
	p.mu.Lock()
	p.next++
	token := p.next
	p.ws[token] = w
	p.mu.Unlock()
	var addErr error
	err = rc.Control(func(fd uintptr) {
		ev := syscall.EpollEvent{Events: pollEvents}
		setPollToken(&ev, token)
		addErr = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev)
	})
	if err != nil || addErr != nil {
		p.forget(token)
		return false
	}
	w.poll = pollWatch{rc: rc, token: token}
	pollRegistrations.Add(1)
	return true
}

// pollStop removes w's registration. Called with w.mu held, before
// fasthttp reads or closes the connection again.
func (w *disconnectWatcher) pollStop() {
	p := thePoller
	p.forget(w.poll.token)
	// Also after the one-shot fired: the socket stays in epoll (disarmed)
	// until removed. If the connection is closed already, Control fails
	// and the kernel has removed it.
	_ = w.poll.rc.Control(func(fd uintptr) {
		_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil)
	})
	w.poll = pollWatch{}
}

func (p *poller) forget(token uint64) {
	p.mu.Lock()
	delete(p.ws, token)
	p.mu.Unlock()
}

// watching is how many watchers are registered (tests: no leaks).
func (p *poller) watching() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.ws)
}

// loop waits for events for the life of the process.
func (p *poller) loop() {
	events := make([]syscall.EpollEvent, 64)
	for {
		n, err := syscall.EpollWait(p.epfd, events, -1)
		if err != nil {
			// EINTR; nothing else can fail on a valid epoll fd with
			// a valid buffer.
			continue
		}
		for i := range events[:n] {
			token := pollToken(&events[i])
			p.mu.Lock()
			w := p.ws[token]
			p.mu.Unlock()
			if w != nil {
				w.pollFired(token, events[i].Events)
			}
		}
	}
}

// pollFired handles the event registered with token: the client shut
// its write side, closed, or the socket failed. A reset or failed socket
// (EPOLLHUP, EPOLLERR) cannot take the answer: cancel. Otherwise a peek
// tells: bytes waiting mean the client pipelined a request before
// shutting its write side (the watch ends and the request is answered,
// as the goroutine watcher does); end of stream or an error means it is
// gone: cancel.
func (w *disconnectWatcher) pollFired(token uint64, events uint32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state != watchPolled || w.poll.token != token || w.poll.fired {
		return // stopped (or reused) since the event was queued
	}
	var n int
	var rerr, err error
	if events&(syscall.EPOLLHUP|syscall.EPOLLERR) == 0 {
		err = w.poll.rc.Control(func(fd uintptr) {
			var b [1]byte
			n, _, rerr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		})
	}
	if err == nil && n <= 0 && (errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EINTR)) {
		// Nothing to tell yet (a spurious wakeup): watch again.
		err = w.poll.rc.Control(func(fd uintptr) {
			ev := syscall.EpollEvent{Events: pollEvents}
			setPollToken(&ev, token)
			rerr = syscall.EpollCtl(thePoller.epfd, syscall.EPOLL_CTL_MOD, int(fd), &ev)
		})
		if err == nil && rerr == nil {
			return
		}
	}
	w.poll.fired = true
	thePoller.forget(token)
	if err == nil && n > 0 {
		return
	}
	w.cancel.Cancel()
}
