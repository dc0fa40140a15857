package observe

import (
	"github.com/VictoriaMetrics/metrics"
	"github.com/llmedge/llmedge/upstream"
)

// Series maps one Registry's deployments and groups to their series;
// it is the Registry's upstream.Observer. Built with each config
// snapshot; series with the same labels are shared across reloads.
type Series struct {
	m       *Recorder
	deps    map[*upstream.Deployment]*depMetrics
	ordered []*depMetrics // deps in config order
	groups  map[*upstream.Group]*groupMetrics
	// unrouted counts requests refused before a model group was found.
	unrouted *depMetrics
}

// Series builds the series of reg's deployments and, when metrics are
// recorded, makes them reg's observer (attempts, retries, cooldowns,
// fallbacks).
func (m *Recorder) Series(reg *upstream.Registry) *Series {
	rm := &Series{m: m, deps: make(map[*upstream.Deployment]*depMetrics), groups: make(map[*upstream.Group]*groupMetrics)}
	rm.unrouted = newDepMetrics(m.set, &groupMetrics{}, "")
	for _, g := range reg.Groups() {
		gm := &groupMetrics{name: g.Name}
		gm.none = newDepMetrics(m.set, gm, "")
		rm.groups[g] = gm
		for _, d := range g.Deployments {
			dm := newDepMetrics(m.set, gm, d.ID)
			dm.d = d
			rm.deps[d] = dm
			rm.ordered = append(rm.ordered, dm)
		}
	}
	if !m.off {
		reg.SetObserver(rm)
	}
	return rm
}

// forCall returns the series of a call routed to group g and answered
// (or failed) by d; either may be nil.
func (rm *Series) forCall(g *upstream.Group, d *upstream.Deployment) *depMetrics {
	if d != nil {
		if dm := rm.deps[d]; dm != nil {
			return dm
		}
	}
	if gm := rm.groups[g]; gm != nil {
		return gm.none
	}
	return rm.unrouted
}

// Attempt implements upstream.Observer.
func (rm *Series) Attempt(d *upstream.Deployment, retry bool) {
	dm := rm.deps[d]
	if dm == nil {
		return
	}
	dm.counter(&dm.attempts, "llmedge_upstream_attempts_total").Inc()
	if retry {
		dm.counter(&dm.retries, "llmedge_upstream_retries_total").Inc()
	}
}

// Cooldown implements upstream.Observer.
func (rm *Series) Cooldown(d *upstream.Deployment) {
	if dm := rm.deps[d]; dm != nil {
		dm.counter(&dm.cooldowns, "llmedge_deployment_cooldowns_total").Inc()
	}
}

// Fallback implements upstream.Observer.
func (rm *Series) Fallback(from, to *upstream.Group) {
	if from == nil || to == nil {
		return
	}
	m := rm.m
	m.fallbacks.get(from.Name+"\x00"+to.Name, func() *metrics.Counter {
		return m.set.GetOrCreateCounter(`llmedge_fallbacks_total{model_name=` + quoteLabel(from.Name) + `,fallback=` + quoteLabel(to.Name) + `}`)
	}).Inc()
}
