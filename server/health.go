package server

import (
	"github.com/valyala/fasthttp"
)

func (s *Server) handleLiveliness(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.SetContentType("application/json")
	ctx.Response.SetBodyString(`"I'm alive!"`)
}

func (s *Server) handleReadiness(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.SetContentType("application/json")
	b := append(ctx.Response.Body()[:0], `{"status":"healthy","db":"Not connected","cache":null,"litellm_version":`...)
	b = appendJSONString(b, "llmedge "+Version)
	b = append(b, `,"in_flight":`...)
	b = appendInt(b, s.inflight.Load())
	b = s.appendLimitStatus(b)
	b = append(b, '}')
	ctx.Response.SetBodyRaw(b)
}

// handleHealth reports every deployment's status from config and live
// counters. It does not call providers: a health probe must not spend
// the operator's money.
func (s *Server) handleHealth(ctx *fasthttp.RequestCtx) {
	var healthy, unhealthy []byte
	nh, nu := 0, 0
	for _, g := range s.current().reg.Groups() {
		for _, d := range g.Deployments {
			ok, why := d.Available()
			e := append([]byte(nil), `{"model":`...)
			e = appendJSONString(e, d.ModelName)
			e = append(e, `,"model_id":`...)
			e = appendJSONString(e, d.ID)
			e = append(e, `,"provider":`...)
			e = appendJSONString(e, d.Provider)
			e = append(e, `,"in_flight":`...)
			e = appendInt(e, d.InFlight())
			if !ok {
				e = append(e, `,"error":`...)
				e = appendJSONString(e, why)
				e = append(e, '}')
				if nu > 0 {
					unhealthy = append(unhealthy, ',')
				}
				unhealthy = append(unhealthy, e...)
				nu++
				continue
			}
			e = append(e, '}')
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
