package upstream

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Deployment health shared between replicas. Every replica behind one
// load balancer calls the same providers, so a deployment that fails on
// one is failing for all, and a deployment's rpm/tpm is the provider's
// quota for all of them together. With a SharedHealth (the server's
// Redis implementation; upstream knows no Redis), the server calls
// Registry.SyncHealth a few times a second: each deployment's calls,
// tokens and failures of the current minute since the last exchange go
// out, the totals of every replica and the latest cooldown and
// Retry-After ends come back. Between exchanges a replica counts on its
// own; the request path reads the other replicas' part with a few
// atomic loads and never waits for the network.
//
// When exchanges fail (Redis down) for sharedStale, each replica
// decides on its own counts again; what it counted meanwhile goes out
// with the next exchange that succeeds (same minute).
//
// What stays per replica: latency samples (latency-based-routing ranks
// deployments as this replica sees them), calls in flight (least-busy
// and max_parallel_requests: a count that changes per request would be
// stale before it arrived; each replica balancing its own calls
// balances the sum), and which cooldowns this replica started (the
// llmedge_deployment_cooldowns_total metric).

// FailClasses is the number of failure classes a HealthCounts carries
// (allowed_fails_policy's classes, in that order).
const FailClasses = int(numClasses)

// sharedStale is how long the other replicas' counts are used after the
// last successful exchange.
const sharedStale = 3 * time.Second

// HealthCounts is one deployment's health in an exchange: counts of one
// minute and the ends (unix ms, 0 = none) of its cooldown and of the
// upstream's Retry-After.
type HealthCounts struct {
	Calls, Tokens int64
	Fails         [FailClasses]int64
	CoolUntil     int64
	NotBefore     int64
}

// SharedHealth exchanges deployment health with the other replicas.
type SharedHealth interface {
	// Exchange adds deltas[i] to deployment ids[i]'s counts of minute
	// (unix minutes), raises its ends to deltas[i]'s when later, and
	// returns each deployment's totals over every replica and its ends.
	Exchange(ctx context.Context, minute int64, ids []string, deltas []HealthCounts) ([]HealthCounts, error)
}

// sharedView is what a deployment knows of the other replicas.
type sharedView struct {
	// until (unix ns) is when the view stops being used: the last
	// successful exchange plus sharedStale. minute is the minute it is for.
	until  atomic.Int64
	minute atomic.Int64
	// the other replicas' calls, tokens and failures this minute.
	rpm, tpm atomic.Int64
	fails    [numClasses]atomic.Int64

	// What this replica has sent this minute (sentMinute), and the
	// cooldown and Retry-After ends it last sent: only SyncHealth
	// touches them (Registry.syncMu).
	sentMinute int64
	sent       HealthCounts
}

// others returns the other replicas' calls and tokens this minute (0
// when the view is stale or of another minute).
func (v *sharedView) others(now int64) (rpm, tpm int64) {
	if v.until.Load() < now || v.minute.Load() != now/int64(time.Minute) {
		return 0, 0
	}
	return v.rpm.Load(), v.tpm.Load()
}

// othersFailed is the other replicas' failures of class c (all classes
// when c < 0) this minute.
func (v *sharedView) othersFailed(now int64, c int) int64 {
	if v.until.Load() < now || v.minute.Load() != now/int64(time.Minute) {
		return 0
	}
	if c >= 0 {
		return v.fails[c].Load()
	}
	var n int64
	for i := range v.fails {
		n += v.fails[i].Load()
	}
	return n
}

// raiseTo stores v in a when it is later than what a holds.
func raiseTo(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if old >= v || a.CompareAndSwap(old, v) {
			return
		}
	}
}

// syncState serialises SyncHealth calls on one registry.
type syncState struct{ mu sync.Mutex }

// SyncHealth exchanges every serving deployment's health with the other
// replicas through s. It is called off the request path, a few times a
// second; an error leaves each deployment on its own counts once the
// last exchange is older than sharedStale.
func (r *Registry) SyncHealth(ctx context.Context, s SharedHealth) error {
	r.sync.mu.Lock()
	defer r.sync.mu.Unlock()
	now := time.Now().UnixNano()
	m := now / int64(time.Minute)
	var ds []*Deployment
	var ids []string
	seen := map[string]bool{}
	for _, g := range r.order {
		for _, d := range g.Deployments {
			if d.Unavailable != "" || seen[d.ID] {
				continue // a duplicate id stays local rather than mix two deployments
			}
			seen[d.ID] = true
			ds = append(ds, d)
			ids = append(ids, d.ID)
		}
	}
	if len(ds) == 0 {
		return nil
	}
	deltas := make([]HealthCounts, len(ds))
	for i, d := range ds {
		deltas[i] = d.health.delta(m)
	}
	totals, err := s.Exchange(ctx, m, ids, deltas)
	if err != nil {
		// Send the ends again once Redis answers: it may have restarted
		// without them.
		for _, d := range ds {
			d.health.shared.sent.CoolUntil, d.health.shared.sent.NotBefore = 0, 0
		}
		return err
	}
	until := time.Now().Add(sharedStale).UnixNano()
	for i, d := range ds {
		if i < len(totals) {
			d.health.apply(m, &deltas[i], &totals[i], until)
		}
	}
	return nil
}

// delta is what this replica counted in minute m since its last
// exchange, and its cooldown and Retry-After ends when they moved.
func (h *health) delta(m int64) HealthCounts {
	v := &h.shared
	if v.sentMinute != m {
		v.sentMinute, v.sent.Calls, v.sent.Tokens, v.sent.Fails = m, 0, 0, [FailClasses]int64{}
	}
	var d HealthCounts
	if h.minute.Load() == m {
		d.Calls = h.rpm.Load() - v.sent.Calls
		d.Tokens = h.tpm.Load() - v.sent.Tokens
	}
	h.mu.Lock()
	if h.failMinute == m {
		for c := range h.fails {
			d.Fails[c] = int64(h.fails[c]) + h.failBase[c] - v.sent.Fails[c]
		}
	}
	h.mu.Unlock()
	if cu := h.coolUntil.Load() / int64(time.Millisecond); cu > v.sent.CoolUntil {
		d.CoolUntil = cu
	}
	if nb := h.notBefore.Load() / int64(time.Millisecond); nb > v.sent.NotBefore {
		d.NotBefore = nb
	}
	return d
}

// apply records what an exchange of minute m returned: the others' part
// of the totals, and cooldown and Retry-After ends set elsewhere.
func (h *health) apply(m int64, d, t *HealthCounts, until int64) {
	v := &h.shared
	v.sent.Calls += d.Calls
	v.sent.Tokens += d.Tokens
	for c := range d.Fails {
		v.sent.Fails[c] += d.Fails[c]
		v.fails[c].Store(max(t.Fails[c]-v.sent.Fails[c], 0))
	}
	v.sent.CoolUntil = max(v.sent.CoolUntil, d.CoolUntil, t.CoolUntil)
	v.sent.NotBefore = max(v.sent.NotBefore, d.NotBefore, t.NotBefore)
	v.rpm.Store(max(t.Calls-v.sent.Calls, 0))
	v.tpm.Store(max(t.Tokens-v.sent.Tokens, 0))
	v.minute.Store(m)
	v.until.Store(until)
	if t.CoolUntil > 0 {
		raiseTo(&h.coolUntil, t.CoolUntil*int64(time.Millisecond))
	}
	if t.NotBefore > 0 {
		raiseTo(&h.notBefore, t.NotBefore*int64(time.Millisecond))
	}
}
