//go:build linux

package connwatch

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
// call of a watcher whose client is gone. A watched request costs one
// epoll_ctl and nothing while it runs: no goroutine, no timer wake, no
// read deadline change (fasthttp's deadlines are never touched). EPOLLIN
// is not asked for, so a request the client pipelines behind the one in
// flight fires nothing and stays for fasthttp.
//
// A socket stays in the epoll set from its first watch until it closes
// (closing removes it: the kernel does that): the next request's watch
// re-arms it with EPOLL_CTL_MOD (about 0.5us) instead of an ADD and a
// DEL per request (about 2us together), and stop makes no syscall at
// all, so it never touches a descriptor that may be closed and reused.
// A stale registration between watches can only fire an event nobody
// claims: epoll data carries a token, never a pointer, the poller maps
// tokens to watchers while they watch, and a watcher acts on an event
// only while it is registered with that very token (checked under its
// mutex, which start, fire and stop share, so stop never waits for the
// poller). The socket itself is only used through RawConn.Control,
// which holds the descriptor open: a connection closed meanwhile
// (fasthttp's shutdown) makes Control fail rather than reach a
// descriptor number reused by another connection.

// pollWatch is a watcher's registration with the poller.
type pollWatch struct {
	rc    syscall.RawConn
	token uint64
	fired bool // the one-shot event was handled: nothing more will come
	// arm and peek are w.pollArm and w.pollPeek, bound once per watcher
	// (part of a pooled call) so Control takes them without allocating; n
	// and err are their results.
	arm, peek func(fd uintptr)
	n         int
	err       error
}

// poller is the shared epoll instance.
type poller struct {
	epfd int
	mu   sync.Mutex
	next uint64
	ws   map[uint64]*Watcher
}

var (
	pollerOnce sync.Once
	thePoller  *poller // nil when epoll is unavailable
	// pollRegistrations counts watches armed with epoll and
	// pollUnclaimed events no watcher claimed (tests: which path ran).
	pollRegistrations, pollUnclaimed atomic.Uint64
)

// sharedPoller returns the process's poller, started on first use, or
// nil if epoll cannot be set up (the goroutine watcher takes over).
func sharedPoller() *poller {
	pollerOnce.Do(func() {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			return
		}
		thePoller = &poller{epfd: fd, ws: make(map[uint64]*Watcher)}
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
func (w *Watcher) pollStart() bool {
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
	if w.poll.arm == nil {
		w.poll.arm, w.poll.peek = w.pollArm, w.pollPeek
	}
	// Mapped before arming: the event may come at once (the poller then
	// waits for w.mu, held until the registration is recorded).
	p.mu.Lock()
	p.next++
	token := p.next
	p.ws[token] = w
	p.mu.Unlock()
	w.poll.rc, w.poll.token, w.poll.fired, w.poll.err = rc, token, false, nil
	if err := rc.Control(w.poll.arm); err != nil || w.poll.err != nil {
		p.forget(token)
		w.poll.rc, w.poll.token = nil, 0
		return false
	}
	pollRegistrations.Add(1)
	return true
}

// pollArm (re-)arms the socket fd with w's token: MOD when a previous
// watch left it in the set, else ADD.
func (w *Watcher) pollArm(fd uintptr) {
	ev := syscall.EpollEvent{Events: pollEvents}
	setPollToken(&ev, w.poll.token)
	err := syscall.EpollCtl(thePoller.epfd, syscall.EPOLL_CTL_MOD, int(fd), &ev)
	if err == syscall.ENOENT {
		err = syscall.EpollCtl(thePoller.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev)
	}
	w.poll.err = err
}

// pollPeek looks at the socket without taking or waiting for anything.
func (w *Watcher) pollPeek(fd uintptr) {
	var b [1]byte
	w.poll.n, _, w.poll.err = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
}

// pollStop ends w's watch. Called with w.mu held. No syscall: the
// socket stays in the set (disarmed once its event fired) for its next
// watch or until it closes; an event it still fires finds no watcher.
func (w *Watcher) pollStop() {
	thePoller.forget(w.poll.token)
	w.poll.rc, w.poll.token, w.poll.err = nil, 0, nil
}

func (p *poller) forget(token uint64) {
	p.mu.Lock()
	delete(p.ws, token)
	p.mu.Unlock()
}

// PollStats are the epoll poller's counters (diagnostics and tests):
// watches registered with it since the process started, and watches
// registered now. Both are 0 when epoll is unavailable.
func PollStats() (registered uint64, watching int) {
	if p := sharedPoller(); p != nil {
		watching = p.watching()
	}
	return pollRegistrations.Load(), watching
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
			if w == nil {
				pollUnclaimed.Add(1)
				continue
			}
			w.pollFired(token, events[i].Events)
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
func (w *Watcher) pollFired(token uint64, events uint32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state != watchPolled || w.poll.token != token || w.poll.fired {
		return // stopped (or reused) since the event was queued
	}
	var err error
	w.poll.n, w.poll.err = 0, nil
	if events&(syscall.EPOLLHUP|syscall.EPOLLERR) == 0 {
		err = w.poll.rc.Control(w.poll.peek)
	}
	if err == nil && w.poll.n <= 0 && (errors.Is(w.poll.err, syscall.EAGAIN) || errors.Is(w.poll.err, syscall.EINTR)) {
		// Nothing to tell yet (a spurious wakeup): watch again.
		w.poll.err = nil
		err = w.poll.rc.Control(w.poll.arm)
		if err == nil && w.poll.err == nil {
			return
		}
	}
	w.poll.fired = true
	thePoller.forget(token)
	if err == nil && w.poll.n > 0 {
		return
	}
	w.cancel.Cancel()
}
