package server

import (
	"github.com/fasthttp/router"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// routeEmbeddings serves POST /v1/embeddings: passed through with only
// "model" rewritten, so input (string, strings, token arrays) and
// encoding_format reach the upstream, and its answer (float arrays or
// base64) the client, byte for byte. mock/ deployments answer with
// deterministic vectors.
func (s *Server) routeEmbeddings(r *router.Router) {
	h := func(ctx *fasthttp.RequestCtx) { s.serveRoute(ctx, upstream.RouteEmbeddings) }
	r.POST("/v1/embeddings", h)
	r.POST("/embeddings", h)
}
