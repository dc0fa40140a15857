package server

import (
	"bytes"
	"github.com/llmedge/llmedge/server/observe"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/server/limits"
	"github.com/llmedge/llmedge/server/request"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// edge is what a config snapshot holds for rate limits, CORS and
// secret scrubbing (built from general_settings / router_settings; the
// key table is snapshot.auth).
type edge struct {
	// gate admits calls against the rate limits (package limits).
	gate    *limits.Gate
	st      edgeSettings
	cors    *corsPolicy
	access  *accessRules // allowed_ips / allowed_routes (access.go)
	secrets []string
}

// fill takes the HTTP server limits from general_settings for the
// Options fields the caller left zero.
func (st edgeSettings) fill(o Options) Options {
	if o.MaxRequestBodySize <= 0 {
		o.MaxRequestBodySize = st.maxBody
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = st.readTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = st.idleTimeout
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = st.maxHeaderBytes
	}
	if o.MaxConnsPerIP <= 0 {
		o.MaxConnsPerIP = st.maxConnsPerIP
	}
	if o.MaxRequestBodyInFlight <= 0 {
		o.MaxRequestBodyInFlight = st.bodiesInFlight
	}
	if o.ClientWriteTimeout <= 0 {
		o.ClientWriteTimeout = st.writeTimeout
	}
	return o
}

// newEdge builds the key table and the limits of a snapshot. On a
// reload (prev set) counters carry over where their settings did not
// change: a key with the same value and limits keeps its window, the
// limiter keeps global and per-user counters, the Redis store keeps its
// connections. A settings error is reported by CheckConfig (New keeps
// it for Serve, a reload is rejected before this runs).
func (s *Server) newEdge(cfg *config.Config, reg *upstream.Registry, prev *snapshot) (*authenticator, *edge) {
	st, _ := parseEdgeSettings(cfg)
	for _, w := range st.warnings {
		s.opts.Logger.Warn(w)
	}
	auth := newAuthenticatorFrom(cfg.General.MasterKey, st.keys)
	if !auth.open && s.dbKeys != nil {
		auth.db = s.dbKeys
	}
	e := &edge{st: st, cors: newCORSPolicy(st.corsOrigins), access: st.access, secrets: collectSecrets(cfg, st)}
	var prevGate *limits.Gate
	if prev != nil {
		prevGate = prev.edge.gate
	}
	lc := limits.Config{GlobalParallel: st.globalParallel, User: st.userLimits, Redis: st.redis}
	gate, err := limits.NewGate(lc, auth.names, prevGate, s.opts.Logger)
	if err != nil {
		s.setupErr = err
	}
	e.gate = gate
	for _, k := range auth.keys {
		if prev != nil && k.sc != nil {
			for _, pk := range prev.auth.keys {
				if pk.digest == k.digest && pk.sc != nil && pk.sc.Same(k.sc) {
					k.sc = pk.sc // same key, same limits: keep its counters
				}
			}
		}
		if !k.all {
			k.modelsJSON = buildModelsJSONFor(reg, s.started.Unix(), func(name string) bool { return k.allows([]byte(name)) })
		}
	}
	return auth, e
}

// permitModel applies the key's model list to the model the request
// names, before anything about that model is looked up: a key limited
// to some models gets the same 403 for a model it may not use whether
// that model exists, serves the route or speaks Anthropic, so it learns
// nothing about the others. Every model route checks in this order:
// key (401), body syntax (400, needed to find the model; says nothing
// about models), permission (403), then the model (404, 400). It
// answers the client (in Anthropic's error shape when anthropic is set:
// /v1/messages) and returns false when the call may not go on; c is
// the caller's to release.
func (s *Server) permitModel(ctx *fasthttp.RequestCtx, sn *snapshot, c *call, key *apiKey, anthropic bool) bool {
	if key.allows(c.fields.Model) {
		return true
	}
	msg := "key '" + key.name + "' may not use model '" + request.Printable(c.fields.Model) + "'"
	refuse(ctx, anthropic, fasthttp.StatusForbidden, "permission_error", "permission_error", "model", "model_not_allowed", msg)
	// The group only labels the metrics (config names, never sent back).
	s.observeRejected(ctx, sn, sn.reg.Lookup(c.fields.Model), c.fields.Stream, observe.RejectModelNotAllowed)
	return false
}

// admitCall applies the rate limits. It answers the client (in
// Anthropic's error shape when anthropic is set: /v1/messages) and
// returns false when the call may not go on.
func (s *Server) admitCall(ctx *fasthttp.RequestCtx, sn *snapshot, c *call, key *apiKey, g *upstream.Group, anthropic bool) bool {
	gate := sn.edge.gate
	c.adm.Reset()
	c.v = limits.Verdict{}
	c.adm.Add(gate.Global(), "global")
	c.adm.Add(key.sc, "key")
	c.adm.Add(gate.User(c.userID), "user")
	if !c.adm.Held() {
		return true
	}
	var reserve int64
	if c.adm.WantsTokens() {
		f := &c.fields
		reserve = limits.EstimateTokens(len(ctx.PostBody()), f.MaxOut, f.N, f.NoOutput)
	}
	c.v = c.adm.Admit(gate, reserve)
	c.v.SetHeaders(&ctx.Response.Header)
	if !c.v.OK() {
		writeRateLimited(ctx, &c.v)
		if anthropic {
			writeAnthropicError(ctx, fasthttp.StatusTooManyRequests, "rate_limit_error", c.v.Message())
		}
		s.observeRejected(ctx, sn, g, c.fields.Stream, observe.RejectRateLimited)
		return false
	}
	return true
}

// releaseLimits ends the call's hold on its scopes, settling its token
// reservation with the tokens the upstream reported (none when it failed
// or reported none: the reservation is given back).
func releaseLimits(c *call, resp *upstream.Response) {
	if !c.adm.Held() {
		return
	}
	if c.adm.WantsTokens() {
		resp.UsageFromBody()
	}
	c.adm.Release(int64(resp.Usage.PromptTokens + resp.Usage.CompletionTokens))
}

// relayUpstreamHeader reports whether an upstream header reaches the
// client: when llmedge limits the call, the x-ratelimit-* headers are
// llmedge's own (set at admission), not the provider's.
func (c *call) relayUpstreamHeader(k []byte) bool {
	return !c.adm.Held() || len(k) < 12 || !bytes.EqualFold(k[:12], []byte("x-ratelimit-"))
}

// Body splices that turn on stream_options.include_usage.
var (
	patchTrue         = []byte("true")
	patchIUFirst      = []byte(`"include_usage":true,`)
	patchIUOnly       = []byte(`"include_usage":true`)
	patchSOObject     = []byte(`{"include_usage":true}`)
	patchStreamOption = []byte(`"stream_options":{"include_usage":true},`)
)

// askUsage sets WantUsage when a token limit applies and, for a stream
// whose client did not ask for usage, the body splice that asks the
// upstream for it (the usage-only chunk is then kept from the client).
func (s *Server) askUsage(c *call) {
	if !c.adm.WantsTokens() {
		return
	}
	c.req.WantUsage = true
	f := &c.fields
	if !f.Stream || f.IncludeUsage || (c.req.Route != upstream.RouteChat && c.req.Route != upstream.RouteCompletions) {
		// Responses streams always end with usage; others do not stream.
		return
	}
	b := c.req.Body
	r := &c.req
	switch {
	case f.UsageEnd != 0: // "include_usage": false
		r.UsagePatchAt, r.UsagePatchDel, r.UsagePatch = f.UsageStart, f.UsageEnd-f.UsageStart, patchTrue
	case f.OptionsEnd != 0 && b[f.OptionsStart] == '{':
		r.UsagePatchAt, r.UsagePatch = f.OptionsStart+1, patchIUFirst
		if b[jsonx.SkipSpace(b, f.OptionsStart+1)] == '}' {
			r.UsagePatch = patchIUOnly
		}
	case f.OptionsEnd != 0: // null
		r.UsagePatchAt, r.UsagePatchDel, r.UsagePatch = f.OptionsStart, f.OptionsEnd-f.OptionsStart, patchSOObject
	default:
		r.UsagePatchAt, r.UsagePatch = f.ObjStart+1, patchStreamOption
	}
}

// appendLimitStatus adds the rate-limit store's state to
// /health/readiness: "rate_limits":{"store":"redis","healthy":false,...}.
func (s *Server) appendLimitStatus(b []byte) []byte {
	store, ok, detail := s.current().edge.gate.Status()
	b = append(b, `,"rate_limits":{"store":`...)
	b = appendJSONString(b, store)
	if ok {
		b = append(b, `,"healthy":true`...)
	} else {
		b = append(b, `,"healthy":false,"detail":`...)
		b = appendJSONString(b, detail)
	}
	return append(b, '}')
}

// startCall admits a call that has found its model group (limits; the
// key's models were checked by permitModel) and starts its bookkeeping: user id, request id,
// in-flight count, observation, a fresh Cancel. false means the client
// has its refusal and c went back to the pool.
func (s *Server) startCall(ctx *fasthttp.RequestCtx, sn *snapshot, c *call, key *apiKey, g *upstream.Group, anthropic bool) bool {
	id, _, ok := sn.mem.userFor(key, &ctx.Request.Header, &c.userBuf)
	if !ok {
		msg := sn.mem.userMismatchMessage(key)
		refuse(ctx, anthropic, fasthttp.StatusForbidden, "permission_error", "permission_error", "", "user_id_mismatch", msg)
		s.observeRejected(ctx, sn, g, c.fields.Stream, observe.RejectUserMismatch)
		callPool.Put(c)
		return false
	}
	c.userID = id
	c.memoryRouting = sn.mem.upstream || key.userID != nil
	if key.entry != nil && !s.checkDBKey(ctx, key.entry, anthropic) {
		s.observeRejected(ctx, sn, g, c.fields.Stream, observe.RejectBudget)
		callPool.Put(c)
		return false
	}
	c.entry = key.entry
	if !s.admitCall(ctx, sn, c, key, g, anthropic) {
		callPool.Put(c)
		return false
	}
	s.inflight.Add(1)
	c.reqID = s.requestID(ctx, c.reqID[:0])
	c.sn = sn
	c.obs.Begin(ctx, sn.series, g, key.name, c.fields.Stream && !c.fields.NoOutput)
	c.out = clientWrite{ctx: ctx, timeout: s.opts.ClientWriteTimeout}
	c.cancel.Reset()
	return true
}
