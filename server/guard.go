package server

import (
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// edge is what a config snapshot holds for rate limits, CORS and
// secret scrubbing (built from general_settings / router_settings; the
// key table is snapshot.auth).
type edge struct {
	// lim is the in-memory limiter (it also owns the per-user scopes the
	// Redis store names its counters after); limits is the store
	// requests are admitted by: lim itself, or Redis in front of it.
	lim     *limiter
	limits  limitStore
	st      edgeSettings
	cors    *corsPolicy
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
	e := &edge{st: st, cors: newCORSPolicy(st.corsOrigins), secrets: collectSecrets(cfg, st)}
	var old *edge
	if prev != nil {
		old = prev.edge
	}
	if old != nil && old.st.globalParallel == st.globalParallel && old.st.userLimits == st.userLimits && old.lim.names == auth.names {
		e.lim = old.lim
	} else {
		e.lim = newLimiter(st.globalParallel, st.userLimits)
		e.lim.names = auth.names
	}
	e.limits = e.lim
	if st.redis.enabled() {
		if rs, ok := old.redisStore(); ok && old.st.redis == st.redis && old.lim == e.lim {
			e.limits = rs
		} else if rs, err := newRedisStore(st.redis, e.lim, s.opts.Logger); err != nil {
			s.setupErr = err
		} else {
			e.limits = rs
		}
	}
	if old != nil && old.limits != e.limits {
		// Calls admitted by the old store release through it (their
		// admission holds it); it stops once they had time to finish.
		retire := old.limits
		if rs, ok := retire.(*redisStore); ok {
			rs.retire() // no longer one of the replicas
		}
		time.AfterFunc(redisLease, retire.close)
	}
	for _, k := range auth.keys {
		if prev != nil && k.sc != nil {
			for _, pk := range prev.auth.keys {
				if pk.digest == k.digest && pk.sc != nil && pk.sc.lim == k.sc.lim && pk.sc.id == k.sc.id {
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

func (e *edge) redisStore() (*redisStore, bool) {
	if e == nil {
		return nil, false
	}
	rs, ok := e.limits.(*redisStore)
	return rs, ok
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
func (s *Server) permitModel(ctx *fasthttp.RequestCtx, sn *snapshot, c *chatCall, key *apiKey, anthropic bool) bool {
	if key.allows(c.fields.model) {
		return true
	}
	msg := "key '" + key.name + "' may not use model '" + safePath(c.fields.model) + "'"
	if anthropic {
		writeAnthropicError(ctx, fasthttp.StatusForbidden, "permission_error", msg)
	} else {
		writeError(ctx, fasthttp.StatusForbidden, msg, "permission_error", "model", "model_not_allowed")
	}
	// The group only labels the metrics (config names, never sent back).
	s.observeRejected(ctx, sn, sn.reg.Lookup(c.fields.model), c.fields.stream, rejectModelNotAllowed)
	return false
}

// admitCall applies the rate limits. It answers the client (in
// Anthropic's error shape when anthropic is set: /v1/messages) and
// returns false when the call may not go on.
func (s *Server) admitCall(ctx *fasthttp.RequestCtx, sn *snapshot, c *chatCall, key *apiKey, g *upstream.Group, anthropic bool) bool {
	e := sn.edge
	c.adm.reset()
	c.v = verdict{}
	c.adm.add(e.lim.global, "global")
	c.adm.add(key.sc, "key")
	c.adm.add(e.lim.user(c.userID), "user")
	if c.adm.n == 0 {
		return true
	}
	c.adm.store = e.limits
	if c.adm.wantsTokens() {
		c.adm.reserve = estimateTokens(&c.fields, len(ctx.PostBody()))
	}
	c.v = e.limits.admit(&c.adm)
	setRateLimitHeaders(&ctx.Response.Header, &c.v)
	if !c.v.ok {
		c.adm.reset()
		writeRateLimited(ctx, &c.v)
		if anthropic {
			writeAnthropicError(ctx, fasthttp.StatusTooManyRequests, "rate_limit_error", rateLimitMessage(&c.v))
		}
		s.observeRejected(ctx, sn, g, c.fields.stream, rejectRateLimited)
		return false
	}
	return true
}

// releaseChat ends the call's hold on its scopes, settling its token
// reservation with the tokens the upstream reported (none when it failed
// or reported none: the reservation is given back).
func (s *Server) releaseChat(c *chatCall, resp *upstream.Response) {
	if c.adm.n == 0 {
		return
	}
	if c.adm.wantsTokens() {
		resp.UsageFromBody()
	}
	c.adm.store.release(&c.adm, int64(resp.Usage.PromptTokens+resp.Usage.CompletionTokens))
	c.adm.reset()
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
func (s *Server) askUsage(c *chatCall) {
	if !c.adm.wantsTokens() {
		return
	}
	c.req.WantUsage = true
	f := &c.fields
	if !f.stream || f.includeUsage || (c.req.Route != upstream.RouteChat && c.req.Route != upstream.RouteCompletions) {
		// Responses streams always end with usage; others do not stream.
		return
	}
	b := c.req.Body
	r := &c.req
	switch {
	case f.iuEnd != 0: // "include_usage": false
		r.UsagePatchAt, r.UsagePatchDel, r.UsagePatch = f.iuStart, f.iuEnd-f.iuStart, patchTrue
	case f.soEnd != 0 && b[f.soStart] == '{':
		r.UsagePatchAt, r.UsagePatch = f.soStart+1, patchIUFirst
		if b[jsonx.SkipSpace(b, f.soStart+1)] == '}' {
			r.UsagePatch = patchIUOnly
		}
	case f.soEnd != 0: // null
		r.UsagePatchAt, r.UsagePatchDel, r.UsagePatch = f.soStart, f.soEnd-f.soStart, patchSOObject
	default:
		r.UsagePatchAt, r.UsagePatch = f.objStart+1, patchStreamOption
	}
}

// appendLimitStatus adds the rate-limit store's state to
// /health/readiness: "rate_limits":{"store":"redis","healthy":false,...}.
func (s *Server) appendLimitStatus(b []byte) []byte {
	store, ok, detail := s.current().edge.limits.status()
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
func (s *Server) startCall(ctx *fasthttp.RequestCtx, sn *snapshot, c *chatCall, key *apiKey, g *upstream.Group, anthropic bool) bool {
	id, _, ok := sn.mem.userFor(key, &ctx.Request.Header, &c.userBuf)
	if !ok {
		msg := sn.mem.userMismatchMessage(key)
		if anthropic {
			writeAnthropicError(ctx, fasthttp.StatusForbidden, "permission_error", msg)
		} else {
			writeError(ctx, fasthttp.StatusForbidden, msg, "permission_error", "", "user_id_mismatch")
		}
		s.observeRejected(ctx, sn, g, c.fields.stream, rejectUserMismatch)
		chatCallPool.Put(c)
		return false
	}
	c.userID = id
	if key.entry != nil && !s.checkDBKey(ctx, key.entry, anthropic) {
		s.observeRejected(ctx, sn, g, c.fields.stream, rejectBudget)
		chatCallPool.Put(c)
		return false
	}
	c.entry = key.entry
	if !s.admitCall(ctx, sn, c, key, g, anthropic) {
		chatCallPool.Put(c)
		return false
	}
	s.inflight.Add(1)
	c.reqID = s.requestID(ctx, c.reqID[:0])
	c.obs.begin(ctx, sn, g)
	c.obs.writeTimeout = s.opts.ClientWriteTimeout
	c.obs.keyName = key.name
	c.cancel.Reset()
	return true
}
