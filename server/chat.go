package server

import (
	"errors"
	"sync"

	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// chatCall is the per-request state of a chat completion, pooled.
type chatCall struct {
	fields chatFields
	route  routeFields
	req    upstream.ChatRequest
	cancel upstream.Cancel
	watch  disconnectWatcher
	reqID  []byte
	body   streamBody
	answer answerBody
	anth   upstream.AnthropicInbound // set on /v1/messages (messages.go)
	cache  cacheCall                 // response cache state (cached.go)
	obs    callObs                   // timings, status and usage for metrics and logs (observe.go)
	// userID is the memory user id (user_id_mappings, memory.go), when
	// resolved; userBuf holds it when it is namespaced by the key.
	userID  []byte
	userBuf []byte
	// adm is the call's hold on its rate-limit scopes; v the verdict
	// reported in x-ratelimit-* headers.
	adm admission
	v   verdict
	// nextOpen and prevOpen link the call into Server.streams while its
	// SSE answer is open (shutdown.go).
	nextOpen, prevOpen *chatCall
}

var chatCallPool = sync.Pool{New: func() any { return new(chatCall) }}

func (s *Server) handleChat(ctx *fasthttp.RequestCtx) { s.serveRoute(ctx, upstream.RouteChat) }

// serveRoute serves every OpenAI route passed upstream (chat, completions,
// embeddings, responses): the request differs only in how its model is
// found (scanRoute) and where the upstream sends it.
func (s *Server) serveRoute(ctx *fasthttp.RequestCtx, route upstream.Route) {
	sn := s.current()
	key := sn.auth.identify(&ctx.Request.Header)
	if key == nil {
		writeAuthError(ctx)
		s.observeRejected(ctx, sn, nil, false, rejectAuth)
		return
	}
	c := chatCallPool.Get().(*chatCall)
	body := ctx.PostBody()
	if err := s.scanRoute(ctx, sn, route, body, c); err != nil {
		chatCallPool.Put(c)
		writeError(ctx, fasthttp.StatusBadRequest, err.msg, "invalid_request_error", err.param, "")
		s.observeRejected(ctx, sn, nil, false, rejectBadRequest)
		return
	}
	if err := cachePrepare(ctx, sn, c, route, body); err != nil {
		chatCallPool.Put(c)
		writeError(ctx, fasthttp.StatusBadRequest, err.msg, "invalid_request_error", err.param, "")
		s.observeRejected(ctx, sn, nil, false, rejectBadRequest)
		return
	}
	if !s.permitModel(ctx, sn, c, key, false) {
		chatCallPool.Put(c)
		return
	}
	g := sn.reg.Lookup(c.fields.model)
	if g == nil {
		msg := "model '" + safePath(c.fields.model) + "' not found: GET /v1/models lists the models this gateway serves"
		writeError(ctx, fasthttp.StatusNotFound, msg, "invalid_request_error", "model", "model_not_found")
		s.observeRejected(ctx, sn, nil, c.fields.stream, rejectModelNotFound)
		chatCallPool.Put(c)
		return
	}
	if e := g.RouteError(route); e != nil {
		s.writeUpstreamError(ctx, sn, e)
		s.observeRejected(ctx, sn, g, c.fields.stream, rejectRouteNotServed)
		chatCallPool.Put(c)
		return
	}
	if !s.startCall(ctx, sn, c, key, g, false) {
		return
	}
	c.setRequest(body, route)
	s.askUsage(c)
	c.watch.start(ctx.Conn(), &c.cancel)
	if sn.cache != nil && s.serveCached(ctx, sn, c, key, g) {
		return
	}
	if c.req.Stream && sn.keepalive > 0 {
		s.streamWithKeepalive(ctx, c, g)
		return
	}

	resp := upstream.AcquireResponse()
	err := sn.reg.Chat(g, &c.req, resp)
	c.obs.answered(resp)
	ctx.Response.Header.SetBytesV("X-Request-Id", c.reqID)
	if resp.Deployment != nil {
		ctx.Response.Header.Set("X-Llmedge-Model-Id", resp.Deployment.ID)
	}
	ctx.Response.Header.Set("X-Llmedge-Attempts", itoa(resp.Attempts))
	if err != nil {
		var ue *upstream.Error
		if errors.As(err, &ue) {
			s.writeUpstreamError(ctx, sn, ue)
		} else {
			writeError(ctx, fasthttp.StatusBadGateway, "upstream failure", "api_error", "", "upstream_error")
		}
		s.finish(c, resp)
		return
	}
	resp.VisitHeaders(func(k, v []byte) {
		if c.relayUpstreamHeader(k) {
			ctx.Response.Header.SetBytesKV(k, v)
		}
	})
	s.answer(ctx, c, resp)
}

// finish stops watching the client, releases the upstream response and
// the call state.
func (s *Server) finish(c *chatCall, resp *upstream.Response) {
	s.observeDone(c, resp)
	if !c.watch.stop() {
		// The watcher consumed bytes of a pipelined request: this
		// connection cannot serve it any more.
		_ = c.watch.conn.Close()
	}
	s.releaseChat(c, resp)
	upstream.ReleaseResponse(resp)
	c.req = upstream.ChatRequest{}
	c.fields = chatFields{}
	c.route = routeFields{}
	c.obs = callObs{}
	c.cache.reset()
	chatCallPool.Put(c)
	s.inflight.Add(-1)
}
