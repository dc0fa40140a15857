package server

import (
	"errors"
	"sync"

	"github.com/llmedge/llmedge/keys"
	"github.com/llmedge/llmedge/server/connwatch"
	"github.com/llmedge/llmedge/server/limits"
	"github.com/llmedge/llmedge/server/observe"
	"github.com/llmedge/llmedge/server/request"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// call is the per-request state of a model route (chat, completions,
// embeddings, responses, messages), pooled. Its path reads in one
// direction: the handler (serveRoute, serveMessages) scans the body,
// admission.go admits it (startCall: key, user, limits, then observe's
// Begin), the registry routes it to a provider whose relay answers it
// (upstream), answer (stream.go) hands the answer to fasthttp, and
// finish (below) records it and releases everything.
type call struct {
	// body and out come first: they are all a streamed event touches
	// of the call (the relay's writes and flushes), so each event
	// brings two of its cache lines back, not five; with a thousand
	// streams open every event finds the call's memory cold.
	body streamBody
	// out is the writing of its answer (writestall.go).
	out clientWrite

	fields request.Fields
	route  routeFields
	req    upstream.ChatRequest
	cancel upstream.Cancel
	watch  connwatch.Watcher
	reqID  []byte
	answer answerBody
	anth   upstream.AnthropicInbound // set on /v1/messages (messages.go)
	cache  *cacheCall                // response cache state (cached.go), taken on first use
	// sn is the config snapshot the call was admitted under.
	sn *snapshot
	// obs observes the call for metrics and the access log (package
	// observe).
	obs observe.Call
	// userID is the memory user id (user_id_mappings, memory.go), when
	// resolved; userBuf holds it when it is namespaced by the key.
	userID  []byte
	userBuf []byte
	// kept holds the model name and betas once a streaming call lets
	// its large body go (letBodyGo).
	kept []byte
	// memoryRouting says whether userID goes upstream as x-sm-user-id
	// (memoryRouter.sendsUpstream).
	memoryRouting bool
	// adm is the call's hold on its rate-limit scopes; v the verdict
	// reported in x-ratelimit-* headers.
	adm limits.Admission
	v   limits.Verdict
	// entry is the caller's database key, when it is one: the answer's
	// cost is added to its spend (finish, dbkeys.go).
	entry *keys.Entry
	// up is the upstream answer's state (ask), kept with the pooled
	// call rather than taken from its own pool per request.
	up *upstream.Response
	// nextOpen and prevOpen link the call into Server.streams while its
	// SSE answer is open (shutdown.go).
	nextOpen, prevOpen *call
}

var callPool = sync.Pool{New: func() any { return new(call) }}

func (s *Server) handleChat(ctx *fasthttp.RequestCtx) { s.serveRoute(ctx, upstream.RouteChat) }

// serveRoute serves every OpenAI route passed upstream (chat, completions,
// embeddings, responses): the request differs only in how its model is
// found (scanRoute) and where the upstream sends it.
func (s *Server) serveRoute(ctx *fasthttp.RequestCtx, route upstream.Route) {
	sn := s.current()
	key := sn.auth.identify(&ctx.Request.Header)
	if key == nil {
		writeAuthError(ctx)
		s.observeRejected(ctx, sn, nil, false, observe.RejectAuth)
		return
	}
	c := callPool.Get().(*call)
	body := ctx.PostBody()
	if err := s.scanRoute(ctx, sn, route, body, c); err != nil {
		callPool.Put(c)
		writeError(ctx, fasthttp.StatusBadRequest, err.Msg, "invalid_request_error", err.Param, "")
		s.observeRejected(ctx, sn, nil, false, observe.RejectBadRequest)
		return
	}
	if err := cachePrepare(ctx, sn, c, route, body); err != nil {
		callPool.Put(c)
		writeError(ctx, fasthttp.StatusBadRequest, err.Msg, "invalid_request_error", err.Param, "")
		s.observeRejected(ctx, sn, nil, false, observe.RejectBadRequest)
		return
	}
	if !s.permitModel(ctx, sn, c, key, false) {
		callPool.Put(c)
		return
	}
	g := sn.reg.Lookup(c.fields.Model)
	if g == nil {
		msg := "model '" + request.Printable(c.fields.Model) + "' not found: GET /v1/models lists the models this gateway serves"
		writeError(ctx, fasthttp.StatusNotFound, msg, "invalid_request_error", "model", "model_not_found")
		s.observeRejected(ctx, sn, nil, c.fields.Stream, observe.RejectModelNotFound)
		callPool.Put(c)
		return
	}
	if e := g.RouteError(route); e != nil {
		s.writeUpstreamError(ctx, sn, e)
		s.observeRejected(ctx, sn, g, c.fields.Stream, observe.RejectRouteNotServed)
		callPool.Put(c)
		return
	}
	if !s.startCall(ctx, sn, c, key, g, false) {
		return
	}
	c.setRequest(body, route, key, key == sn.auth.master)
	c.req.Tracer = s.obs.Trace(ctx, &c.obs, observe.Traced{Route: route, Model: c.fields.Model, Stream: c.fields.Stream, ReqID: c.reqID})
	s.askUsage(c)
	c.watch.Start(ctx.Conn(), &c.cancel)
	if sn.cache != nil && s.serveCached(ctx, sn, c, key, g) {
		return
	}
	if c.req.Stream && sn.keepalive > 0 {
		s.streamWithKeepalive(ctx, c, g)
		return
	}

	resp, err := s.ask(ctx, sn, c, g)
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
		// k is canonical: the upstream's header was normalized when
		// read (provider.Answer.VisitHeaders).
		if c.relayUpstreamHeader(k) {
			ctx.Response.Header.SetCanonical(k, v)
		}
	})
	s.answer(ctx, c, resp)
}

// ask runs the call through the registry (router, provider, relay up
// to the answer's head or its failure) and sets the headers that say
// who answered: the request id, the deployment and the attempts.
func (s *Server) ask(ctx *fasthttp.RequestCtx, sn *snapshot, c *call, g *upstream.Group) (*upstream.Response, error) {
	if c.up == nil {
		c.up = upstream.AcquireResponse()
	}
	resp := c.up
	err := sn.reg.Chat(g, &c.req, resp)
	c.obs.Answered(resp)
	h := &ctx.Response.Header
	h.SetCanonical(hdrRequestID, c.reqID)
	if resp.Deployment != nil {
		h.SetCanonical(hdrModelID, viewBytes(resp.Deployment.ID))
	}
	h.SetCanonical(hdrAttempts, viewBytes(itoa(resp.Attempts)))
	return resp, err
}

// finish stops watching the client, releases the upstream response and
// the call state.
func (s *Server) finish(c *call, resp *upstream.Response) {
	s.obs.Finish(c.out.ctx, &c.obs, resp, observe.Outcome{ReqID: c.reqID, UserID: c.req.UserID, ClientWait: c.out.wait, Err: c.out.err})
	if c.entry != nil {
		s.addSpend(c, resp)
	}
	if c.obs.Streaming() {
		// After the access-log line: Shutdown waits for this.
		s.streams.remove(c)
	}
	if !c.watch.Stop() {
		// The watcher consumed bytes of a pipelined request: this
		// connection cannot serve it any more.
		_ = c.watch.Conn().Close()
	}
	releaseLimits(c, resp)
	if resp == c.up {
		upstream.ResetResponse(resp)
	} else {
		upstream.ReleaseResponse(resp)
	}
	c.req = upstream.ChatRequest{}
	c.anth = upstream.AnthropicInbound{}
	c.fields = request.Fields{}
	c.route = routeFields{}
	c.obs = observe.Call{}
	c.out = clientWrite{}
	if c.cache != nil {
		c.cache.reset()
	}
	c.sn = nil
	c.entry = nil
	callPool.Put(c)
	s.inflight.Add(-1)
}

// observeRejected records a request refused before it reached an
// upstream (call it after writing the error): its request id, then
// timing headers, metrics and access log (observe). g is the model
// group when known.
func (s *Server) observeRejected(ctx *fasthttp.RequestCtx, sn *snapshot, g *upstream.Group, stream bool, reason string) {
	var idBuf [160]byte
	id := s.requestID(ctx, idBuf[:0])
	ctx.Response.Header.SetCanonical(hdrRequestID, id)
	s.obs.Rejected(ctx, sn.series, g, stream, reason, id)
}
