package server

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/router"
	"github.com/llmedge/llmedge/keys"
	"github.com/llmedge/llmedge/server/limits"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// dbKeys turns the keys cache's entries into apiKeys (model scope,
// limiter scope, user namespace), rebuilt when the cache reloads. The
// request path reads one atomic pointer and one map: no database.
type dbKeys struct {
	cache *keys.Cache
	mu    sync.Mutex
	table atomic.Pointer[dbTable]
	// scopes keep each key's rate-limit counters across rebuilds.
	scopes map[string]*limits.Scope
}

type dbTable struct {
	gen  uint64
	keys map[keyDigest]*apiKey
}

func newDBKeys(c *keys.Cache) *dbKeys {
	d := &dbKeys{cache: c, scopes: map[string]*limits.Scope{}}
	d.table.Store(&dbTable{gen: ^uint64(0)})
	return d
}

// lookup returns the apiKey of a database key by digest, or nil.
func (d *dbKeys) lookup(dg *keyDigest, names *limits.CounterNamer) *apiKey {
	t := d.table.Load()
	if t.gen != d.cache.Gen() {
		t = d.rebuild(names)
	}
	return t.keys[*dg]
}

func (d *dbKeys) rebuild(names *limits.CounterNamer) *dbTable {
	d.mu.Lock()
	defer d.mu.Unlock()
	gen := d.cache.Gen()
	if t := d.table.Load(); t.gen == gen {
		return t
	}
	t := &dbTable{gen: gen, keys: map[keyDigest]*apiKey{}}
	d.cache.Entries(func(e *keys.Entry) {
		name := e.Key.KeyName
		if e.Key.KeyAlias != nil && *e.Key.KeyAlias != "" {
			name = *e.Key.KeyAlias
		}
		var models []string
		if len(e.Models) > 0 {
			models = e.Models
		}
		lim := limits.Quota{RPM: e.RPM, TPM: e.TPM, Parallel: e.Parallel}
		k := newAPIKeyDigest(keyDigest(e.Digest), name, models, limits.Quota{}, names)
		if lim.Any() {
			sc := limits.NewScope(k.id, lim)
			if prev := d.scopes[k.id]; prev != nil && prev.Same(sc) {
				sc = prev // same key, same limits: keep its counters
			}
			d.scopes[k.id] = sc
			k.sc = sc
		}
		if e.Key.UserID != nil && *e.Key.UserID != "" {
			k.userID = []byte(*e.Key.UserID)
		} else {
			k.userPrefix = []byte(name + ":")
		}
		k.entry = e
		t.keys[k.digest] = k
	})
	d.table.Store(t)
	return t
}

// checkDBKey refuses a database key that is blocked, expired or over a
// budget (the key's, its user's or its team's) before any upstream
// call, with LiteLLM's errors; else it sets x-litellm-key-spend.
func (s *Server) checkDBKey(ctx *fasthttp.RequestCtx, e *keys.Entry, anthropic bool) bool {
	now := time.Now().UnixMilli()
	if why := e.Usable(now); why != "" {
		refuse(ctx, anthropic, fasthttp.StatusUnauthorized, "authentication_error", "authentication_error", "", "invalid_api_key", why)
		return false
	}
	if why := e.OverBudget(now); why != "" {
		refuse(ctx, anthropic, fasthttp.StatusBadRequest, "budget_exceeded", "invalid_request_error", "", "400", why)
		return false
	}
	var buf [32]byte
	ctx.Response.Header.SetBytesV("X-Litellm-Key-Spend", strconv.AppendFloat(buf[:0], e.KeySpend(now), 'f', -1, 64))
	return true
}

// addSpend adds a database key's answer cost (observe.Call.Cost, set
// by Finish) to its key, user and team, and logs it.
func (s *Server) addSpend(c *call, resp *upstream.Response) {
	o := &c.obs
	u := keys.Usage{RequestID: c.reqID, Cost: o.Cost(),
		PromptTokens: int64(resp.Usage.PromptTokens), CompletionTokens: int64(resp.Usage.CompletionTokens), Start: o.Start(), End: time.Now()}
	if g := o.Group(); g != nil {
		u.Model = g.Name
	}
	s.opts.Keys.AddSpend(c.entry, &u)
}

// routeKeyAPI serves LiteLLM's management API with the master key only.
func (s *Server) routeKeyAPI(r *router.Router) {
	if s.opts.Keys == nil {
		return
	}
	api := &keys.API{C: s.opts.Keys}
	for _, rt := range api.Routes() {
		r.Handle(rt.Method, rt.Path, s.masterOnly(rt.H))
	}
}

// masterOnly lets only the master key through (a gateway without one
// has no management API: every caller would be an admin).
func (s *Server) masterOnly(h fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		a := s.current().auth
		if a.master == nil {
			writeError(ctx, fasthttp.StatusForbidden, "the key management API needs general_settings.master_key", "permission_error", "", "")
			return
		}
		if a.identify(&ctx.Request.Header) != a.master {
			writeAuthError(ctx)
			return
		}
		h(ctx)
	}
}

// appendDBStatus appends /health/readiness's "db" value: "connected",
// "disconnected" (with since when and the error) or LiteLLM's "Not
// connected" without a database.
func (s *Server) appendDBStatus(b []byte) []byte {
	if s.opts.Keys == nil {
		return append(b, `"Not connected"`...)
	}
	up, since, msg := s.opts.Keys.Up()
	if up {
		b = append(b, `"connected","db_engine":`...)
		return appendJSONString(b, s.opts.Keys.Store().Engine())
	}
	b = append(b, `"disconnected","db_engine":`...)
	b = appendJSONString(b, s.opts.Keys.Store().Engine())
	b = append(b, `,"db_down_since":`...)
	b = appendJSONString(b, since.UTC().Format(time.RFC3339))
	b = append(b, `,"db_error":`...)
	return appendJSONString(b, scrubDBError(msg))
}

// scrubDBError keeps a driver error's first line and drops anything
// that looks like a URL (it may carry a password).
func scrubDBError(msg string) string {
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	for _, scheme := range []string{"postgres://", "postgresql://"} {
		if i := strings.Index(msg, scheme); i >= 0 {
			msg = msg[:i] + "<url>"
		}
	}
	return msg
}
