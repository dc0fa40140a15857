package server

import (
	"github.com/valyala/fasthttp"
)

// CORS is off by default: browsers get no Access-Control-* headers and
// so cannot call the gateway from another origin (a key pasted into a
// web page is a leaked key). general_settings.cors_allow_origins lists
// the origins allowed ("*" allows any); a preflight from one of them is
// answered 204 here, before routing and authentication.
type corsPolicy struct {
	any     bool
	origins map[string]struct{}
}

func newCORSPolicy(origins []string) *corsPolicy {
	if len(origins) == 0 {
		return nil
	}
	p := &corsPolicy{origins: map[string]struct{}{}}
	for _, o := range origins {
		if o == "*" {
			p.any = true
		}
		p.origins[o] = struct{}{}
	}
	return p
}

const (
	corsAllowMethods  = "GET, POST, OPTIONS"
	corsAllowHeaders  = "Authorization, Content-Type, X-Api-Key, Api-Key, X-Request-Id, OpenAI-Organization, OpenAI-Project, OpenAI-Beta, X-Memory-User-Id"
	corsExposeHeaders = "X-Request-Id, Retry-After, X-Ratelimit-Limit-Requests, X-Ratelimit-Remaining-Requests, X-Ratelimit-Reset-Requests, X-Ratelimit-Limit-Tokens, X-Ratelimit-Remaining-Tokens, X-Ratelimit-Reset-Tokens, X-Llmedge-Model-Id"
)

// serve answers a preflight from an allowed origin, or adds the CORS
// headers for one and calls h.
func (p *corsPolicy) serve(ctx *fasthttp.RequestCtx, h fasthttp.RequestHandler) {
	origin := ctx.Request.Header.Peek("Origin")
	if len(origin) == 0 || len(origin) > 256 || !printable(origin) {
		h(ctx)
		return
	}
	if _, ok := p.origins[string(origin)]; !ok && !p.any {
		h(ctx)
		return
	}
	rh := &ctx.Response.Header
	rh.SetBytesV("Access-Control-Allow-Origin", origin)
	rh.Add("Vary", "Origin")
	if ctx.IsOptions() && len(ctx.Request.Header.Peek("Access-Control-Request-Method")) > 0 {
		rh.Set("Access-Control-Allow-Methods", corsAllowMethods)
		rh.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		rh.Set("Access-Control-Max-Age", "600")
		ctx.SetStatusCode(fasthttp.StatusNoContent)
		return
	}
	rh.Set("Access-Control-Expose-Headers", corsExposeHeaders)
	h(ctx)
}

// withCORS applies the CORS policy of the config in force to every
// request (a reload may turn it on or off).
func (s *Server) withCORS(h fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		if p := s.current().edge.cors; p != nil {
			p.serve(ctx, h)
			return
		}
		h(ctx)
	}
}
