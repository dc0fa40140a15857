package server

import (
	"bytes"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Rate limits. Three scopes may hold a request: the whole gateway
// (global), the caller's key, and the caller's memory user id. Each
// scope may limit requests per minute (rpm), tokens per minute (tpm:
// an estimate reserved at admission, settled with the upstream's usage
// once the answer is complete, tpm.go) and requests in flight
// (parallel).
//
// Minutes are fixed windows aligned on the wall clock (as LiteLLM's
// limiter): a window admits exactly rpm requests, and admits requests
// while its token count (spent + reserved) is below tpm (the request
// that crosses the line is the last one admitted in that window). The
// in-memory limiter is exact and allocation-free; ratelimit_redis.go
// shares the same counters across processes.

// limits of one scope; 0 = unlimited.
type limits struct{ rpm, tpm, parallel int64 }

func (l limits) any() bool { return l.rpm > 0 || l.tpm > 0 || l.parallel > 0 }

// share is l divided among n replicas, rounded up (0 stays unlimited).
func (l limits) share(n int64) limits {
	if n <= 1 {
		return l
	}
	f := func(v int64) int64 { return (v + n - 1) / n }
	return limits{f(l.rpm), f(l.tpm), f(l.parallel)}
}

// scope is one set of counters.
type scope struct {
	id  string
	lim limits

	mu       sync.Mutex
	minute   int64 // window the counters belong to
	reqs     int64
	toks     int64
	parallel int64
	lastUse  int64 // minute of the last admission (user eviction)
	// outReqs and outToks are what this window admitted locally while
	// Redis was down: added to Redis when it is back
	// (ratelimit_outage.go).
	outReqs, outToks int64
}

func newScope(id string, lim limits) *scope { return &scope{id: id, lim: lim} }

// roll moves the counters to minute m. Caller holds mu.
func (s *scope) roll(m int64) {
	if s.minute != m {
		s.minute, s.reqs, s.toks, s.outReqs, s.outToks = m, 0, 0, 0, 0
	}
}

// Limit kinds, as reported in 429 messages.
const (
	limitNone = iota
	limitParallel
	limitRPM
	limitTPM
)

// admission is one request's hold on its scopes, kept in chatCall.
type admission struct {
	scopes [3]*scope
	names  [3]string // "global", "key", "user"
	n      int
	// store admitted the call; the release goes to it (a reload may
	// have replaced the snapshot's store meanwhile).
	store limitStore
	// remote is set when the admission was granted by Redis.
	remote bool
	member [32]byte // Redis lease member (process id + sequence)
	mlen   int
	// minute is the window the request was admitted (and its tokens
	// reserved) in.
	minute int64
	// reserve is the token estimate reserved in every scope (tpm.go);
	// 0 when no scope limits tokens.
	reserve int64
	// outage is set (to the number of replicas sharing the limits) when
	// the request is admitted locally because Redis is down: each scope
	// then admits up to its share of its limits.
	outage int64
}

func (a *admission) add(s *scope, name string) {
	if s != nil {
		a.scopes[a.n], a.names[a.n] = s, name
		a.n++
	}
}

func (a *admission) reset() { *a = admission{} }

// wantsTokens reports whether a scope counts tokens (so the answer's
// usage must be read).
func (a *admission) wantsTokens() bool {
	for i := 0; i < a.n; i++ {
		if a.scopes[i].lim.tpm > 0 {
			return true
		}
	}
	return false
}

// verdict is the outcome of an admission check, with what the
// x-ratelimit-* headers report (the tightest scope for requests and for
// tokens).
type verdict struct {
	ok    bool
	kind  int    // limit hit when !ok
	scope string // scope hit when !ok
	limit int64  // the limit hit
	// retryAfter is in seconds.
	retryAfter int64

	hasReq, hasTok bool
	limReq, remReq int64
	limTok, remTok int64
	// reset is seconds until the current window ends.
	reset int64
}

// observe folds a scope's counters into the headers (before the
// request is counted: used values).
func (v *verdict) observe(l limits, reqs, toks int64) {
	if l.rpm > 0 {
		rem := l.rpm - reqs
		if !v.hasReq || rem < v.remReq {
			v.hasReq, v.limReq, v.remReq = true, l.rpm, rem
		}
	}
	if l.tpm > 0 {
		rem := l.tpm - toks
		if !v.hasTok || rem < v.remTok {
			v.hasTok, v.limTok, v.remTok = true, l.tpm, rem
		}
	}
}

// limiter is the in-memory limiter.
type limiter struct {
	global  *scope
	userLim limits

	usersMu  sync.RWMutex
	users    map[string]*scope
	overflow *scope // users beyond maxUsers share it
	lastScan int64
	maxUsers int
	// names names the users' counters (shared with the key table).
	names counterNamer

	now func() time.Time
}

// maxUsers bounds the per-user counters kept in memory: an attacker
// inventing user ids cannot grow the map beyond it (idle users are
// evicted; past that, new users share one overflow scope).
const maxUsers = 100_000

func newLimiter(globalParallel int64, userLim limits) *limiter {
	l := &limiter{userLim: userLim, users: map[string]*scope{}, maxUsers: maxUsers, now: time.Now}
	if globalParallel > 0 {
		l.global = newScope("global", limits{parallel: globalParallel})
	}
	l.overflow = newScope("u-overflow", userLim)
	return l
}

// user returns the scope of a memory user id (nil when users have no
// limits). Known users cost a map read and no allocation.
func (l *limiter) user(id []byte) *scope {
	if !l.userLim.any() || len(id) == 0 {
		return nil
	}
	l.usersMu.RLock()
	s := l.users[string(id)]
	l.usersMu.RUnlock()
	if s != nil {
		return s
	}
	l.usersMu.Lock()
	defer l.usersMu.Unlock()
	if s = l.users[string(id)]; s != nil {
		return s
	}
	if len(l.users) >= l.maxUsers {
		m := l.now().Unix() / 60
		if m == l.lastScan {
			return l.overflow
		}
		l.lastScan = m
		for k, u := range l.users {
			u.mu.Lock()
			idle := u.parallel == 0 && u.lastUse < m-1
			u.mu.Unlock()
			if idle {
				delete(l.users, k)
			}
		}
		if len(l.users) >= l.maxUsers {
			return l.overflow
		}
	}
	s = newScope(l.names.name('u', id), l.userLim)
	s.lastUse = l.now().Unix() / 60
	l.users[string(id)] = s
	return s
}

// admit checks a's scopes and, when every one has room, counts the
// request in all of them. Scopes are locked in a fixed order (global,
// key, user), so the check and the count are one atomic step.
func (l *limiter) admit(a *admission) verdict {
	now := l.now()
	m := now.Unix() / 60
	v := verdict{ok: true, reset: 60 - now.Unix()%60}
	a.minute = m
	for i := 0; i < a.n; i++ {
		a.scopes[i].mu.Lock()
	}
	for i := 0; i < a.n; i++ {
		s := a.scopes[i]
		s.roll(m)
		lim := s.lim
		if a.outage > 1 {
			lim = lim.share(a.outage)
		}
		kind, limit := limitNone, int64(0)
		switch {
		case lim.parallel > 0 && s.parallel >= lim.parallel:
			kind, limit = limitParallel, lim.parallel
		case lim.rpm > 0 && s.reqs >= lim.rpm:
			kind, limit = limitRPM, lim.rpm
		case lim.tpm > 0 && s.toks >= lim.tpm:
			kind, limit = limitTPM, lim.tpm
		}
		v.observe(lim, s.reqs, s.toks)
		if kind != limitNone && v.ok {
			v.ok, v.kind, v.scope, v.limit = false, kind, a.names[i], limit
		}
	}
	if v.ok {
		for i := 0; i < a.n; i++ {
			s := a.scopes[i]
			s.reqs++
			s.toks += a.reserve
			s.parallel++
			s.lastUse = m
			if a.outage > 0 {
				s.outReqs++
				s.outToks += a.reserve
			}
		}
		v.counted(a.reserve)
	}
	for i := a.n - 1; i >= 0; i-- {
		a.scopes[i].mu.Unlock()
	}
	v.setRetryAfter()
	return v
}

// counted moves the remaining counts past an admitted request and its
// token reservation.
func (v *verdict) counted(reserve int64) {
	if v.hasReq {
		v.remReq--
	}
	if v.hasTok {
		v.remTok -= reserve
	}
}

func (v *verdict) setRetryAfter() {
	if v.ok {
		return
	}
	if v.kind == limitParallel {
		v.retryAfter = 1
	} else {
		v.retryAfter = v.reset
	}
}

// release ends a's hold: one fewer request in flight, and its token
// reservation settled with the tokens spent (settle, tpm.go).
func (l *limiter) release(a *admission, tokens int64) {
	m := l.now().Unix() / 60
	d := a.settle(m, tokens)
	for i := 0; i < a.n; i++ {
		s := a.scopes[i]
		s.mu.Lock()
		s.parallel--
		s.roll(m)
		s.toks = max(s.toks+d, 0)
		if a.outage > 0 {
			s.outToks = max(s.outToks+d, 0)
		}
		s.mu.Unlock()
	}
}

// shadow counts in a's scopes a request Redis admitted in minute m, so
// that the replica knows what it admitted if Redis goes away
// (ratelimit_outage.go); release settles it like a local admission.
func (l *limiter) shadow(a *admission, m int64) {
	for i := 0; i < a.n; i++ {
		s := a.scopes[i]
		s.mu.Lock()
		s.roll(m)
		s.reqs++
		s.toks += a.reserve
		s.parallel++
		s.lastUse = m
		s.mu.Unlock()
	}
}

// limitStore is the in-memory limiter or the Redis one.
type limitStore interface {
	admit(a *admission) verdict
	release(a *admission, tokens int64)
	// status is the store's state for /health/readiness.
	status() (store string, healthy bool, detail string)
	close()
}

func (l *limiter) status() (string, bool, string) { return "memory", true, "" }
func (l *limiter) close()                         {}

// setRateLimitHeaders writes OpenAI's x-ratelimit-* headers.
func setRateLimitHeaders(h *fasthttp.ResponseHeader, v *verdict) {
	var buf [24]byte
	var reset [8]byte
	r := appendReset(reset[:0], v.reset)
	// Canonical keys: SetCanonical skips fasthttp's key normalization.
	if v.hasReq {
		h.SetCanonical(hdrLimitReq, strconv.AppendInt(buf[:0], v.limReq, 10))
		h.SetCanonical(hdrRemainingReq, strconv.AppendInt(buf[:0], max(v.remReq, 0), 10))
		h.SetCanonical(hdrResetReq, r)
	}
	if v.hasTok {
		h.SetCanonical(hdrLimitTok, strconv.AppendInt(buf[:0], v.limTok, 10))
		h.SetCanonical(hdrRemainingTok, strconv.AppendInt(buf[:0], max(v.remTok, 0), 10))
		h.SetCanonical(hdrResetTok, r)
	}
}

var (
	hdrLimitReq     = []byte("X-Ratelimit-Limit-Requests")
	hdrRemainingReq = []byte("X-Ratelimit-Remaining-Requests")
	hdrResetReq     = []byte("X-Ratelimit-Reset-Requests")
	hdrLimitTok     = []byte("X-Ratelimit-Limit-Tokens")
	hdrRemainingTok = []byte("X-Ratelimit-Remaining-Tokens")
	hdrResetTok     = []byte("X-Ratelimit-Reset-Tokens")
)

// relayUpstreamHeader reports whether an upstream header reaches the
// client: when llmedge limits the call, the x-ratelimit-* headers are
// llmedge's own (set at admission), not the provider's.
func (c *chatCall) relayUpstreamHeader(k []byte) bool {
	return c.adm.n == 0 || len(k) < 12 || !bytes.EqualFold(k[:12], []byte("x-ratelimit-"))
}

// appendReset writes seconds as OpenAI does ("17s", "1m0s").
func appendReset(b []byte, sec int64) []byte {
	if sec >= 60 {
		b = strconv.AppendInt(b, sec/60, 10)
		b = append(b, 'm')
		sec %= 60
	}
	b = strconv.AppendInt(b, sec, 10)
	return append(b, 's')
}

// writeRateLimited answers 429 for a refused admission.
func writeRateLimited(ctx *fasthttp.RequestCtx, v *verdict) {
	var buf [24]byte
	ctx.Response.Header.SetBytesV("Retry-After", strconv.AppendInt(buf[:0], v.retryAfter, 10))
	writeError(ctx, fasthttp.StatusTooManyRequests, rateLimitMessage(v), "rate_limit_error", "", "rate_limit_exceeded")
}

func rateLimitMessage(v *verdict) string {
	var what string
	switch v.kind {
	case limitParallel:
		what = "parallel requests"
	case limitRPM:
		what = "requests per minute"
	default:
		what = "tokens per minute"
	}
	return "rate limit exceeded: " + v.scope + " limit of " + strconv.FormatInt(v.limit, 10) + " " + what + " reached; retry after " + strconv.FormatInt(v.retryAfter, 10) + "s"
}
