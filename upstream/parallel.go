package upstream

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// A deployment's max_parallel_requests (or router_settings.
// default_max_parallel_requests) caps its calls in flight, a stream
// counting until its last event is relayed, as LiteLLM's router does
// with a semaphore per deployment. The router skips a deployment at its
// cap; when every deployment left is at its cap, the call waits for a
// slot (as in LiteLLM) for at most max_retry_wait_seconds, then gets a
// 429. A slot is taken after the router chose the deployment and given
// back when the attempt fails, when a non-stream answer is read, or
// when the Response is released.

// parallelSlots is a deployment's cap and the slots in use.
type parallelSlots struct {
	max  int64 // 0 = no cap
	used atomic.Int64
}

// full reports whether no slot is free.
func (p *parallelSlots) full() bool { return p.max > 0 && p.used.Load() >= p.max }

// take takes a slot; false when none is free (another call got there
// first). Deployments without a cap take nothing and always succeed.
func (p *parallelSlots) take() bool {
	if p.max == 0 {
		return true
	}
	for {
		n := p.used.Load()
		if n >= p.max {
			return false
		}
		if p.used.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// slotFreed wakes the calls waiting for a slot on any deployment.
type slotFreed struct {
	mu sync.Mutex
	ch chan struct{} // closed when a slot is freed; nil when nobody waits
}

// wait returns the channel the next free slot closes.
func (s *slotFreed) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *slotFreed) signal() {
	s.mu.Lock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
	s.mu.Unlock()
}

// takeSlot takes a slot of d for out; false when d filled up since the
// router chose it.
func (reg *Registry) takeSlot(d *Deployment, out *Response) bool {
	if !d.slots.take() {
		return false
	}
	if d.slots.max > 0 {
		out.slot, out.slotReg = d, reg
	}
	return true
}

// freeSlot gives back the slot out holds, if any.
func (out *Response) freeSlot() {
	if out.slot == nil {
		return
	}
	out.slot.slots.used.Add(-1)
	out.slotReg.freed.signal()
	out.slot, out.slotReg = nil, nil
}

// waitForSlot waits until a slot may have been freed, the call is
// canceled or wait passes; false unless a slot was freed.
func (reg *Registry) waitForSlot(cancel *Cancel, wait time.Duration) bool {
	ch := reg.freed.wait()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-cancel.Done():
	case <-t.C:
	}
	return false
}

// errAllBusy is choose's answer when the deployments left are all at
// their max_parallel_requests: the call waits for a slot.
var errAllBusy = &Error{Status: 429, Type: "rate_limit_error", Code: "max_parallel_requests"}

// busyError answers a call that waited max_retry_wait_seconds for a
// slot of a deployment of g.
func busyError(g *Group, waited time.Duration) *Error {
	return &Error{Status: 429, Type: "rate_limit_error", Code: "max_parallel_requests",
		RetryAfter: []byte("1"),
		Message: "every deployment of model " + strconv.Quote(g.Name) + " has max_parallel_requests calls in flight (waited " +
			waited.Round(time.Millisecond).String() + ")"}
}
