package server

import (
	"github.com/fasthttp/router"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// routeCompletions serves the legacy POST /v1/completions, passed
// through like chat: JSON, or SSE text_completion chunks ending in
// [DONE].
func (s *Server) routeCompletions(r *router.Router) {
	h := func(ctx *fasthttp.RequestCtx) { s.serveRoute(ctx, upstream.RouteCompletions) }
	r.POST("/v1/completions", h)
	r.POST("/completions", h)
}
