package server

import (
	"strconv"
	"time"

	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

func (s *Server) handleLiveliness(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.SetContentType("application/json")
	ctx.Response.SetBodyString(`"I'm alive!"`)
}

func (s *Server) handleReadiness(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.SetContentType("application/json")
	b := append(ctx.Response.Body()[:0], `{"status":"healthy","db":`...)
	b = s.appendDBStatus(b)
	b = append(b, `,"cache":null,"litellm_version":`...)
	b = appendJSONString(b, "llmedge "+Version)
	b = append(b, `,"in_flight":`...)
	b = appendInt(b, s.inflight.Load())
	b = s.appendLimitStatus(b)
	b = s.appendCacheStatus(b)
	b = s.appendReplicaStatus(b)
	b = append(b, '}')
	ctx.Response.SetBodyRaw(b)
}

// handleHealth reports every deployment's status from config and live
// counters. It does not call providers: a health probe must not spend
// the operator's money. The master key (or, without one, a key that may
// use every model) sees each deployment's id, provider, calls in flight
// and why it is unavailable; any other key sees only the deployments of
// the models it may use, by model name alone: how many there are and
// whether each can take calls.
func (s *Server) handleHealth(ctx *fasthttp.RequestCtx) {
	sn := s.current()
	key := sn.auth.identify(&ctx.Request.Header)
	if key == nil {
		writeAuthError(ctx)
		return
	}
	detail := key == sn.auth.master || (sn.auth.master == nil && key.all)
	groups := sn.reg.Groups()
	// ?model= probes that model's deployments now (health_probe.go);
	// without it the state is the router's (passive).
	probed := sn.probeResults()
	if m := ctx.QueryArgs().Peek("model"); len(m) > 0 {
		g := sn.reg.Lookup(m)
		if g == nil || !detail && !key.allows(m) {
			writeError(ctx, fasthttp.StatusNotFound, "model "+strconv.Quote(string(m))+" not found", "invalid_request_error", "model", "model_not_found")
			return
		}
		groups = []*upstream.Group{g}
		probed = sn.probeModel(g)
	}
	var healthy, unhealthy []byte
	nh, nu := 0, 0
	for _, g := range groups {
		if !detail && !key.allows([]byte(g.Name)) {
			continue
		}
		for _, d := range g.Deployments {
			ok, why := deploymentHealth(d, probed)
			e := append([]byte(nil), `{"model":`...)
			e = appendJSONString(e, d.ModelName)
			if detail {
				e = append(e, `,"model_id":`...)
				e = appendJSONString(e, d.ID)
				e = append(e, `,"provider":`...)
				e = appendJSONString(e, d.Provider)
				e = append(e, `,"in_flight":`...)
				e = appendInt(e, d.InFlight())
				e = append(e, `,"consecutive_failures":`...)
				e = appendInt(e, d.FailStreak())
				if !ok {
					e = append(e, `,"error":`...)
					e = appendJSONString(e, why)
				}
			}
			e = append(e, '}')
			if !ok {
				if nu > 0 {
					unhealthy = append(unhealthy, ',')
				}
				unhealthy = append(unhealthy, e...)
				nu++
				continue
			}
			if nh > 0 {
				healthy = append(healthy, ',')
			}
			healthy = append(healthy, e...)
			nh++
		}
	}
	b := []byte(`{"healthy_endpoints":[`)
	b = append(b, healthy...)
	b = append(b, `],"unhealthy_endpoints":[`...)
	b = append(b, unhealthy...)
	b = append(b, `],"healthy_count":`...)
	b = appendInt(b, int64(nh))
	b = append(b, `,"unhealthy_count":`...)
	b = appendInt(b, int64(nu))
	b = append(b, '}')
	ctx.Response.Header.SetContentType("application/json")
	ctx.Response.SetBodyRaw(b)
}

// handleMetrics serves the Prometheus text exposition (package
// observe); with metrics_require_auth it needs the master key.
func (s *Server) handleMetrics(ctx *fasthttp.RequestCtx) {
	sn := s.current()
	if sn.metricsAuth && !sn.auth.admin(&ctx.Request.Header) {
		writeAuthError(ctx)
		return
	}
	ctx.Response.Header.SetContentType("text/plain; version=0.0.4; charset=utf-8")
	ctx.Response.SetBodyRaw(s.obs.AppendExposition(nil))
}

// deploymentHealth is d's state for /health: unavailable (config),
// cooling down after failures (the router's passive state), or, when
// probed, the probe's outcome.
func deploymentHealth(d *upstream.Deployment, probed map[*upstream.Deployment]upstream.ProbeResult) (bool, string) {
	if ok, why := d.Available(); !ok {
		return false, why
	}
	if r, was := probed[d]; was && r.Err != nil && r.Err != upstream.ErrNotProbed {
		return false, "probe failed: " + r.Err.Error()
	} else if was {
		return true, ""
	}
	if until := d.CoolingDownUntil(); !until.IsZero() {
		return false, "cooling down after failures for " + strconv.FormatFloat(time.Until(until).Seconds(), 'f', 1, 64) + "s more"
	}
	// A deployment whose last calls all failed (a group of one never
	// cools down) is not healthy either.
	if n := d.FailStreak(); n >= unhealthyStreak {
		return false, "its last " + strconv.FormatInt(n, 10) + " calls failed"
	}
	return true, ""
}

// unhealthyStreak is the failed attempts in a row that make a
// deployment unhealthy in /health.
const unhealthyStreak = 3
