package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmedge/llmedge/upstream"
)

// Health probes (upstream.Registry.Probe: a GET of the provider's
// models where it has one, else a 1-token call).
//
// Background health checks (general_settings.background_health_checks):
// each config snapshot probes every deployment (but those with
// model_info.disable_background_health_check) once per
// health_check_interval, never more often: one probe round at a time,
// the next interval counted from the round's end, and a reload's first
// round waits until an interval has passed since the last round's start.
// /health reports the last results, and GET /health?model= serves them
// too instead of probing again (as LiteLLM does); it probes only the
// deployments the background leaves out or has not reached yet, and
// without background checks it probes the model's deployments.
// Concurrent probes of one deployment share one call. Every probe's
// outcome goes to the metrics (observe.Series.Probed).

// defaultHealthCheckInterval is LiteLLM's health_check_interval default.
const defaultHealthCheckInterval = 300 * time.Second

// healthProbeTimeout bounds one probe (LiteLLM's is 60 s;
// model_info.health_check_timeout replaces it per deployment).
const healthProbeTimeout = 10 * time.Second

type probeLoop struct {
	results atomic.Pointer[map[*upstream.Deployment]upstream.ProbeResult]
	stop    chan struct{}
	once    sync.Once

	// calls are the probes in flight, shared by their callers.
	mu    sync.Mutex
	calls map[*upstream.Deployment]*probeCall
}

type probeCall struct {
	done chan struct{}
	res  upstream.ProbeResult
	// joined counts the callers that share the call (under mu).
	joined int
}

// startProbes starts sn's background probes when the config asks.
// lastRound is the start (unix ns) of the last round of any snapshot.
func (sn *snapshot) startProbes(lastRound *atomic.Int64) {
	g := &sn.cfg.General
	if !g.BackgroundHealthChecks {
		return
	}
	every := g.HealthCheckInterval
	if every <= 0 {
		every = defaultHealthCheckInterval
	}
	sn.probes.stop = make(chan struct{})
	first := firstRoundDelay(lastRound.Load(), every, time.Now())
	go func() {
		t := time.NewTimer(first)
		defer t.Stop()
		for {
			select {
			case <-sn.probes.stop:
				return
			case <-t.C:
			}
			lastRound.Store(time.Now().UnixNano())
			res := map[*upstream.Deployment]upstream.ProbeResult{}
			for _, grp := range sn.reg.Groups() {
				for d, r := range sn.probeAll(grp.Deployments, true) {
					res[d] = r
				}
			}
			sn.probes.results.Store(&res)
			t.Reset(every)
		}
	}()
}

// firstRoundDelay is how long a new snapshot waits before its first
// round: until an interval has passed since the last round of any
// snapshot began (lastRound, unix ns; 0 = none yet, no wait).
func firstRoundDelay(lastRound int64, every time.Duration, now time.Time) time.Duration {
	if lastRound == 0 {
		return 0
	}
	return max(0, time.Unix(0, lastRound).Add(every).Sub(now))
}

// stopProbes ends sn's background probes (idempotent; nil-safe).
func (sn *snapshot) stopProbes() {
	if sn == nil || sn.probes.stop == nil {
		return
	}
	sn.probes.once.Do(func() { close(sn.probes.stop) })
}

// probeResults are the last background probe results (nil: none).
func (sn *snapshot) probeResults() map[*upstream.Deployment]upstream.ProbeResult {
	if p := sn.probes.results.Load(); p != nil {
		return *p
	}
	return nil
}

// probeModel returns the health of g's deployments for GET
// /health?model=: the background results where there are, a probe now
// for the others.
func (sn *snapshot) probeModel(g *upstream.Group) map[*upstream.Deployment]upstream.ProbeResult {
	known := sn.probeResults()
	var todo []*upstream.Deployment
	out := make(map[*upstream.Deployment]upstream.ProbeResult, len(g.Deployments))
	for _, d := range g.Deployments {
		if r, ok := known[d]; ok {
			out[d] = r
			continue
		}
		todo = append(todo, d)
	}
	for d, r := range sn.probeAll(todo, false) {
		out[d] = r
	}
	return out
}

// probeAll probes ds at once; background leaves out the deployments
// that opt out of background checks.
func (sn *snapshot) probeAll(ds []*upstream.Deployment, background bool) map[*upstream.Deployment]upstream.ProbeResult {
	out := make(map[*upstream.Deployment]upstream.ProbeResult, len(ds))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, d := range ds {
		if background && d.Config.Health.SkipBackground {
			continue
		}
		wg.Go(func() {
			r := sn.probe(d)
			mu.Lock()
			out[d] = r
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// probe probes d, sharing a probe already in flight, and records the
// outcome in the metrics.
func (sn *snapshot) probe(d *upstream.Deployment) upstream.ProbeResult {
	p := &sn.probes
	p.mu.Lock()
	if c := p.calls[d]; c != nil {
		c.joined++
		p.mu.Unlock()
		<-c.done
		return c.res
	}
	c := &probeCall{done: make(chan struct{})}
	if p.calls == nil {
		p.calls = map[*upstream.Deployment]*probeCall{}
	}
	p.calls[d] = c
	p.mu.Unlock()

	c.res = sn.reg.Probe(d, healthProbeTimeout)
	sn.series.Probed(d, c.res)
	p.mu.Lock()
	delete(p.calls, d)
	p.mu.Unlock()
	close(c.done)
	return c.res
}
