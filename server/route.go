package server

import (
	"github.com/llmedge/llmedge/server/request"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// routeFields are what a request of a by-id route (GET or DELETE of a
// stored response) carries instead of a body: the id from the path and
// the query string to pass on.
type routeFields struct {
	id    []byte
	query []byte
}

// scanRoute finds the model (and stream flags) of a request of route:
// in the JSON body for every route with one, in the header, query or
// config default for the by-id routes.
func (s *Server) scanRoute(ctx *fasthttp.RequestCtx, sn *snapshot, route upstream.Route, body []byte, c *call) *request.Error {
	c.route = routeFields{}
	if !route.HasBody() {
		return s.scanResponseRef(ctx, sn, c)
	}
	if err := request.Scan(body, &c.fields, route == upstream.RouteChat); err != nil {
		return err
	}
	request.SplitBetas(&c.fields, sn.reg)
	if route == upstream.RouteEmbeddings {
		// Embeddings never stream; a stray "stream" is the upstream's
		// to reject, not a reason to expect SSE.
		c.fields.Stream, c.fields.IncludeUsage = false, false
		c.fields.NoOutput = true
	}
	return nil
}

// setRequest sets the upstream request of c for route from what the
// scan found. Apart from serveRoute so that the literal's temporary is
// not in serveRoute's frame, which stays on the stack below the whole
// upstream call, dial included (stack_test.go).
//
//go:noinline
func (c *call) setRequest(body []byte, route upstream.Route, key *apiKey, admin bool) {
	c.req = upstream.ChatRequest{
		Body:          body,
		ModelStart:    c.fields.ModelStart,
		ModelEnd:      c.fields.ModelEnd,
		Model:         c.fields.Model,
		Stream:        c.fields.Stream,
		IncludeUsage:  c.fields.IncludeUsage,
		RequestID:     c.reqID,
		UserID:        c.userID,
		MemoryRouting: c.memoryRouting,
		Cancel:        &c.cancel,
		Route:         route,
		ResponseID:    c.route.id,
		Query:         c.route.query,
		Caller:        key.id,
		Admin:         admin,
		// A model-name suffix's betas, for Claude hosts.
		AnthropicBeta: c.fields.Betas,
		// The router's first clock reading is taken from the
		// request's (internal/clock).
		AttemptStart: c.obs.Start(),
	}
}
