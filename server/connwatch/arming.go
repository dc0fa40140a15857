package connwatch

import (
	"sync"
	"sync/atomic"
	"time"
)

// A watch's delay (watchDelay) is not a runtime timer per request: a
// timer armed and stopped for every request made the Go runtime wake a
// thread for it anyway (a stopped timer stays in the heap until its
// time, and a new earliest timer breaks the poller's sleep): at 100
// requests a second that was ~2 epoll_pwait wakeups per request more
// than the bare proxy. Instead armed watches wait on one list, in the
// order they were armed, and one goroutine ticks every watchDelay while
// any request is in flight: a watch armed during tick e begins at tick
// e+2, between one and two delays after its start. A request costs a
// lock/unlock pair to join the list and one to leave it, no clock read
// and no timer. The ticker stops after a second with nothing armed, so
// an idle gateway does not wake up.

// armedList is the watches whose delay runs.
type armedList struct {
	mu   sync.Mutex
	head Watcher // sentinel of a circular list
	// tick counts the ticks (read without the lock by add).
	tick atomic.Uint64
	// ticking: the ticker goroutine runs; wake restarts it.
	ticking bool
	wake    chan struct{}
}

var armed = armedList{wake: make(chan struct{}, 1)}

// idleTicks is how many ticks with nothing armed stop the ticker.
const idleTicks = int(time.Second / watchDelay)

func (l *armedList) add(w *Watcher) {
	l.mu.Lock()
	if l.head.next == nil {
		l.head.next, l.head.prev = &l.head, &l.head
		go l.run()
	}
	if w.next == nil {
		w.armedAt = l.tick.Load()
		w.prev, w.next = l.head.prev, &l.head
		l.head.prev.next = w
		l.head.prev = w
	}
	wake := !l.ticking
	l.ticking = true
	l.mu.Unlock()
	if wake {
		l.signal()
	}
}

// signal (re)starts the ticker; a signal already pending is enough.
func (l *armedList) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *armedList) remove(w *Watcher) {
	l.mu.Lock()
	l.unlink(w)
	l.mu.Unlock()
}

func (l *armedList) unlink(w *Watcher) {
	if w.next != nil {
		w.prev.next, w.next.prev = w.next, w.prev
		w.prev, w.next = nil, nil
	}
}

// run is the ticker goroutine, for the life of the process: it ticks
// while watches are armed (and for a second after), else waits for add.
func (l *armedList) run() {
	t := time.NewTicker(watchDelay)
	t.Stop()
	var due []*Watcher
	for range l.wake {
		t.Reset(watchDelay)
		for idle := 0; idle < idleTicks; {
			<-t.C
			due = l.due(due[:0])
			if len(due) == 0 && l.empty() {
				idle++
				continue
			}
			idle = 0
			for i, w := range due {
				due[i] = nil
				w.fire()
			}
		}
		t.Stop()
		l.mu.Lock()
		more := l.head.next != &l.head
		l.ticking = more
		l.mu.Unlock()
		if more {
			l.signal() // armed while the ticker was stopping: go on
		}
	}
}

// due advances the tick and takes off the list the watches armed two
// ticks ago or earlier (the list is in arming order).
func (l *armedList) due(dst []*Watcher) []*Watcher {
	l.mu.Lock()
	now := l.tick.Add(1)
	for w := l.head.next; w != &l.head && w.armedAt+2 <= now; w = l.head.next {
		l.unlink(w)
		dst = append(dst, w)
	}
	l.mu.Unlock()
	return dst
}

func (l *armedList) empty() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.head.next == &l.head
}
