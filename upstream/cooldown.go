package upstream

import (
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// health is a deployment's shared runtime state: failures, cooldown,
// Retry-After, latency and usage. Every call of every client reads and
// updates it, so it is atomics plus one mutex taken only on failure.
type health struct {
	// coolUntil (unix ns) takes the deployment out of every pick.
	coolUntil atomic.Int64
	// notBefore (unix ns) is the upstream's Retry-After: the deployment
	// is picked before then only when nothing else is left, and the call
	// waits for it.
	notBefore atomic.Int64
	// latency is the moving average time to first byte in ns (0 = no
	// sample yet).
	latency atomic.Int64
	// inflight counts the attempts on the deployment that have started
	// and not ended (least-busy routing, Deployment.InFlight; the
	// failure rate leaves them out).
	inflight atomic.Int64
	// usage in the current minute (for rpm/tpm limits and
	// usage-based-routing).
	minute atomic.Int64
	rpm    atomic.Int64
	tpm    atomic.Int64

	// fails counts, per error class, the failures of the current
	// minute (failMinute) that count toward a cooldown.
	mu         sync.Mutex
	failMinute int64
	fails      [numClasses]int
	// failStreak counts the attempts in a row that failed (probe.go).
	failStreak atomic.Int64
	// With failures counted per class: failBase is what a cooldown reset
	// from fails this minute (so that fails+failBase only grows, for the
	// exchange), othersBase the other replicas' failures then.
	failBase   [numClasses]int64
	othersBase [numClasses]int64

	// shared is what the other replicas counted (shared.go).
	shared sharedView
}

// The failure rate that cools a deployment down (LiteLLM's
// DEFAULT_FAILURE_THRESHOLD_PERCENT and _MINIMUM_REQUESTS): more than
// half of its calls in the current minute failed, over at least 5 calls.
const (
	coolFailurePercent = 50
	coolMinCalls       = 5
)

// cooling reports whether d is in cooldown at now (unix ns).
func (h *health) cooling(now int64) bool { return h.coolUntil.Load() > now }

// fail records a failure of class c that counts toward a cooldown and
// says whether the deployment must cool down now. With p.countFails
// that is when the failures of class c this minute exceed the class's
// allowed_fails_policy entry (else allowed_fails); otherwise when atOnce
// (a broken key or model id) or when more than coolFailurePercent of the
// calls this minute failed, over at least coolMinCalls. A failure while
// cooling down (a last-resort attempt that failed) extends the cooldown
// without starting a new one.
func (h *health) fail(now int64, c errClass, atOnce bool, p *policy) (cooled bool) {
	if p.cooldownTime <= 0 {
		return false
	}
	calls, _ := h.usage(now)
	m := now / int64(time.Minute)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failMinute != m {
		h.failMinute, h.fails = m, [numClasses]int{}
		h.failBase, h.othersBase = [numClasses]int64{}, [numClasses]int64{}
	}
	h.fails[c]++
	var cool bool
	if p.countFails {
		others := h.shared.othersFailed(now, int(c))
		cool = int64(h.fails[c])+max(others-h.othersBase[c], 0) > int64(p.allowedFailsFor(c))
		if cool {
			h.failBase[c] += int64(h.fails[c])
			h.fails[c] = 0
			h.othersBase[c] = others
		}
	} else {
		failed := h.shared.othersFailed(now, -1)
		for _, n := range h.fails {
			failed += int64(n)
		}
		// The rate is over the calls that ended, as LiteLLM's (failures
		// over successes plus failures): one still in flight has done
		// neither, and counting it let a deployment failing most calls
		// dodge its cooldown for as long as enough calls were in flight
		// on it (60% failures with four of five in flight read as 33%).
		calls = max(calls-h.inflight.Load(), 0)
		cool = atOnce || (calls >= coolMinCalls && 100*failed > coolFailurePercent*calls)
	}
	if !cool {
		return false
	}
	was := h.coolUntil.Swap(now + int64(p.cooldownTime))
	return was <= now
}

// retryAfter records an upstream Retry-After.
func (h *health) retryAfter(now int64, wait time.Duration) {
	if wait <= 0 {
		return
	}
	wait = min(wait, maxNotBefore)
	until := now + int64(wait)
	for {
		old := h.notBefore.Load()
		if old >= until || h.notBefore.CompareAndSwap(old, until) {
			return
		}
	}
}

// observe folds a time to first byte into the moving average (weight
// 1/5 for the new sample: recent enough to follow a provider slowing
// down, smooth enough that one slow answer does not flip the ranking).
func (h *health) observe(ttfb time.Duration) {
	ns := int64(ttfb)
	if ns <= 0 {
		ns = 1
	}
	old := h.latency.Load()
	if old == 0 {
		h.latency.Store(ns)
		return
	}
	h.latency.Store(old + (ns-old)/5)
}

// use counts one request of about tokens tokens in the current minute.
func (h *health) use(now int64, tokens int64) {
	h.roll(now)
	h.rpm.Add(1)
	h.tpm.Add(tokens)
}

// addTokens corrects the tokens counted for a request once the answer's
// usage is known.
func (h *health) addTokens(now int64, delta int64) {
	h.roll(now)
	h.tpm.Add(delta)
}

func (h *health) roll(now int64) {
	m := now / int64(time.Minute)
	if old := h.minute.Load(); old != m && h.minute.CompareAndSwap(old, m) {
		h.rpm.Store(0)
		h.tpm.Store(0)
	}
}

// usage returns the requests and tokens counted in the current minute,
// by every replica when they share health (shared.go).
func (h *health) usage(now int64) (rpm, tpm int64) {
	rpm, tpm = h.shared.others(now)
	if h.minute.Load() != now/int64(time.Minute) {
		return rpm, tpm
	}
	return rpm + h.rpm.Load(), tpm + h.tpm.Load()
}

// atLimit reports whether d used up its rpm or tpm for this minute.
func (d *Deployment) atLimit(now int64) bool {
	if d.Config.RPM <= 0 && d.Config.TPM <= 0 {
		return false
	}
	rpm, tpm := d.health.usage(now)
	return (d.Config.RPM > 0 && rpm >= int64(d.Config.RPM)) || (d.Config.TPM > 0 && tpm >= int64(d.Config.TPM))
}

// headroom is the fraction of d's rpm/tpm left this minute (1 when it
// has no limits).
func (d *Deployment) headroom(now int64) float64 {
	rpm, tpm := d.health.usage(now)
	h := 1.0
	if d.Config.RPM > 0 {
		h = min(h, 1-float64(rpm)/float64(d.Config.RPM))
	}
	if d.Config.TPM > 0 {
		h = min(h, 1-float64(tpm)/float64(d.Config.TPM))
	}
	return h
}

// allowedFailsFor is how many failures of class c a deployment may have
// in a minute when failures are counted.
func (p *policy) allowedFailsFor(c errClass) int {
	if n := p.allowedFailsPolicy[c]; n >= 0 {
		return n
	}
	return p.allowedFails
}

// noteFailure records a failed attempt on d and cools d down when the
// policy says so. A group's only deployment (for this route) is never
// cooled down, as in LiteLLM: leaving it out helps nobody, and its
// clients would get refusals instead of its answers.
func (reg *Registry) noteFailure(d *Deployment, g *Group, route Route, e *Error, now int64) {
	c := classify(e)
	if !reg.policy.countsForCooldown(e, c) || !hasAlternative(g, d, route) {
		return
	}
	if e.Status == 404 && (route.Spec().ByID || d.Wildcard) {
		// The client named what was not found (a stored response, a
		// model under a wildcard): not the deployment's fault, and no
		// key may cool a deployment down for others by asking for it.
		return
	}
	atOnce := e.Status == 401 || e.Status == 403 || e.Status == 404
	if d.health.fail(now, c, atOnce, &reg.policy) {
		reg.observeCooldown(d)
	}
}

// countsForCooldown says whether a failure is the deployment's fault
// (and so counts toward its cooldown): timeouts, server errors,
// connection failures, and auth/not-found errors (a broken key or model
// id on that deployment). A malformed request is the client's. A 429 is
// the provider's load signal: its Retry-After keeps the deployment out
// of first picks for that long (health.notBefore), and it counts only
// when failures are counted (LiteLLM's allowed_fails semantics). A
// class named in allowed_fails_policy counts whatever it is.
func (p *policy) countsForCooldown(e *Error, c errClass) bool {
	if e.Code == "upstream_redirect" || e.Status == 499 {
		return false
	}
	if p.countFails && p.allowedFailsPolicy[c] >= 0 {
		return true
	}
	switch e.Status {
	case 401, 403, 404, 408:
		return true
	case 429:
		return p.countFails
	}
	return e.Status >= 500 || e.Retryable
}

// hasAlternative reports whether g has a deployment other than d that
// may serve route.
func hasAlternative(g *Group, d *Deployment, route Route) bool {
	for _, x := range g.Deployments {
		if x != d && x.Unavailable == "" && x.routes.Has(route) {
			return true
		}
	}
	return false
}

// cooldownError is the answer when every deployment of g is cooling
// down and this call already tried each: 429 with Retry-After = the
// soonest recovery. (The call's own last error is preferred; this
// remains for a call whose attempts were made in another group.)
func cooldownError(g *Group, soonest int64, now int64) *Error {
	secs := int64(math.Ceil(float64(soonest-now) / float64(time.Second)))
	if secs < 1 {
		secs = 1
	}
	return &Error{Status: 429, Type: "rate_limit_error", Code: "deployments_cooling_down",
		RetryAfter: strconv.AppendInt(nil, secs, 10),
		Message:    "every deployment of model " + strconv.Quote(g.Name) + " is cooling down after repeated failures; retry after " + strconv.FormatInt(secs, 10) + "s"}
}

// limitError is the answer when every deployment of g used up its
// rpm/tpm for this minute.
func limitError(g *Group, now int64) *Error {
	next := (now/int64(time.Minute) + 1) * int64(time.Minute)
	secs := int64(math.Ceil(float64(next-now) / float64(time.Second)))
	return &Error{Status: 429, Type: "rate_limit_error", Code: "rate_limit_exceeded",
		RetryAfter: strconv.AppendInt(nil, max(secs, 1), 10),
		Message:    "every deployment of model " + strconv.Quote(g.Name) + " reached its rpm/tpm limit for this minute"}
}

// CoolingDownUntil is when d's cooldown ends; zero when d is not
// cooling down (for health and metrics).
func (d *Deployment) CoolingDownUntil() time.Time {
	if cu := d.health.coolUntil.Load(); cu > time.Now().UnixNano() {
		return time.Unix(0, cu)
	}
	return time.Time{}
}
