package upstream

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/llmedge/llmedge/upstream/provider"
)

// callState is what one client call remembers across its attempts:
// which deployments it tried (once per attempt) and how long it waited.
// It lives on the caller's stack: the first attempts are kept in an
// array, not a slice of itself.
type callState struct {
	first  [8]*Deployment
	n      int
	more   []*Deployment
	waited time.Duration
	// retries made in the current group.
	retries int
}

func (cs *callState) attempts(d *Deployment) int {
	c := 0
	for _, x := range cs.first[:min(cs.n, len(cs.first))] {
		if x == d {
			c++
		}
	}
	for _, x := range cs.more {
		if x == d {
			c++
		}
	}
	return c
}

func (cs *callState) note(d *Deployment) {
	if cs.n < len(cs.first) {
		cs.first[cs.n] = d
	} else {
		cs.more = append(cs.more, d)
	}
	cs.n++
}

// choose picks the deployment of g serving route for the next attempt and how long to
// wait before it. The first choice is a deployment this call has not
// tried, that is not cooling down, within its rpm/tpm, and with no
// pending Retry-After, picked by the routing strategy. Failing that, the
// deployment that can be tried soonest (a tried one after its backoff,
// or one whose Retry-After runs out). Failing that, a cooling deployment
// this call has not tried, the one whose cooldown ends soonest: a
// cooldown steers traffic to the rest of the group, it never refuses a
// call the upstream might still answer, and a call tries each cooling
// deployment at most once (no backoff retries on it), so an outage
// costs the upstream one attempt per deployment and call at most. With
// nothing left it returns the reason as an error: 429 when everything
// is at its limit (or cooling and already tried), the deployments' own
// reason when none can serve, or nil when every deployment used up its
// retries.
func (reg *Registry) choose(g *Group, route Route, cs *callState, now int64) (*Deployment, time.Duration, *Error) {
	var buf [16]*Deployment
	fresh := buf[:0]
	var later, cooled *Deployment
	var laterWait time.Duration
	serving, limited, busy := false, false, false
	soonest, cooledUntil := int64(math.MaxInt64), int64(0)
	for _, d := range g.Deployments {
		if !d.routes.Has(route) {
			// Not an option for this route (a chat model asked for
			// embeddings): never tried, never cooled down for it.
			continue
		}
		if d.Unavailable != "" {
			continue
		}
		serving = true
		if cu := d.health.coolUntil.Load(); cu > now {
			if (cooled == nil || cu < cooledUntil) && cs.attempts(d) == 0 && !d.atLimit(now) {
				if d.slots.full() {
					busy = true
				} else {
					cooled, cooledUntil = d, cu
				}
			}
			soonest = min(soonest, cu)
			continue
		}
		if d.atLimit(now) {
			limited = true
			continue
		}
		if d.slots.full() {
			busy = true
			continue
		}
		n := cs.attempts(d)
		if n > 0 && d.Config.MaxRetries != nil && n > *d.Config.MaxRetries {
			continue
		}
		nb := d.health.notBefore.Load()
		if n == 0 && nb <= now {
			fresh = append(fresh, d)
			continue
		}
		var wait time.Duration
		if nb > now {
			wait = time.Duration(nb - now)
		}
		if n > 0 {
			wait = max(wait, reg.policy.backoffFor(n))
		}
		if later == nil || wait < laterWait {
			later, laterWait = d, wait
		}
	}
	if len(fresh) > 0 {
		return reg.pickBy(fresh, now), 0, nil
	}
	if later != nil {
		return later, laterWait, nil
	}
	if cooled != nil && !busy {
		var wait time.Duration
		if nb := cooled.health.notBefore.Load(); nb > now {
			wait = time.Duration(nb - now)
		}
		return cooled, wait, nil
	}
	switch {
	case busy:
		// A slot frees when a call ends: worth waiting for.
		return nil, 0, errAllBusy
	case soonest != math.MaxInt64:
		return nil, 0, cooldownError(g, soonest, now)
	case limited:
		return nil, 0, limitError(g, now)
	case !serving:
		for _, d := range g.Deployments {
			if d.Unavailable != "" {
				return nil, 0, &Error{Status: d.UnavailableStatus, Type: provider.ErrorType(d.UnavailableStatus), Code: d.UnavailableCode, Message: d.Unavailable}
			}
		}
		return nil, 0, &Error{Status: 503, Type: "service_unavailable_error", Message: fmt.Sprintf("no deployment available for model %q", g.Name)}
	}
	return nil, 0, nil
}

// backoffFor is the wait before the n-th retry of one deployment:
// exponential from backoff, capped at backoffMax, with jitter (the wait
// is drawn from [d/2, d]) so clients that failed together do not come
// back together.
func (p *policy) backoffFor(n int) time.Duration {
	if p.backoff <= 0 {
		return 0
	}
	d := p.backoff
	for i := 1; i < n && d < p.backoffMax; i++ {
		d *= 2
	}
	if p.backoffMax > 0 && d > p.backoffMax {
		d = p.backoffMax
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// pickBy applies the routing strategy to the eligible deployments.
func (reg *Registry) pickBy(ds []*Deployment, now int64) *Deployment {
	if len(ds) == 1 {
		return ds[0]
	}
	start := rand.IntN(len(ds))
	switch reg.policy.strategy {
	case leastBusy:
		best := ds[start]
		for i := 1; i < len(ds); i++ {
			d := ds[(start+i)%len(ds)]
			if d.health.inflight.Load() < best.health.inflight.Load() {
				best = d
			}
		}
		return best
	case latencyBased:
		// A deployment never measured is tried first, so every one gets a
		// sample; then the lowest moving average wins.
		best := ds[start]
		for i := 1; i < len(ds); i++ {
			d := ds[(start+i)%len(ds)]
			bl, dl := best.health.latency.Load(), d.health.latency.Load()
			if bl != 0 && (dl == 0 || dl < bl) {
				best = d
			}
		}
		return best
	case usageBased:
		best := ds[start]
		bh := best.headroom(now)
		for i := 1; i < len(ds); i++ {
			d := ds[(start+i)%len(ds)]
			dh := d.headroom(now)
			if dh > bh {
				best, bh = d, dh
			} else if dh == bh {
				br, _ := best.health.usage(now)
				dr, _ := d.health.usage(now)
				if dr < br {
					best, bh = d, dh
				}
			}
		}
		return best
	}
	return shuffle(ds)
}

// shuffle is simple-shuffle: a random pick weighted by weight, else by
// rpm, else by tpm, else uniform.
func shuffle(ds []*Deployment) *Deployment {
	weight := func(d *Deployment) float64 { return d.Config.Weight }
	switch {
	case anyPositive(ds, func(d *Deployment) float64 { return d.Config.Weight }):
	case anyPositive(ds, func(d *Deployment) float64 { return float64(d.Config.RPM) }):
		weight = func(d *Deployment) float64 { return float64(d.Config.RPM) }
	case anyPositive(ds, func(d *Deployment) float64 { return float64(d.Config.TPM) }):
		weight = func(d *Deployment) float64 { return float64(d.Config.TPM) }
	default:
		return ds[rand.IntN(len(ds))]
	}
	total := 0.0
	for _, d := range ds {
		total += max(weight(d), 0)
	}
	r := rand.Float64() * total
	for _, d := range ds {
		w := max(weight(d), 0)
		if r < w {
			return d
		}
		r -= w
	}
	return ds[len(ds)-1]
}

func anyPositive(ds []*Deployment, f func(*Deployment) float64) bool {
	for _, d := range ds {
		if f(d) > 0 {
			return true
		}
	}
	return false
}
