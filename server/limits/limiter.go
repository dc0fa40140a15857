package limits

import (
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Quota is the limits of one scope; 0 = unlimited.
type Quota struct{ RPM, TPM, Parallel int64 }

// Any reports whether q limits anything.
func (l Quota) Any() bool { return l.RPM > 0 || l.TPM > 0 || l.Parallel > 0 }

// share is l divided among n replicas, rounded up (0 stays unlimited).
func (l Quota) share(n int64) Quota {
	if n <= 1 {
		return l
	}
	f := func(v int64) int64 { return (v + n - 1) / n }
	return Quota{f(l.RPM), f(l.TPM), f(l.Parallel)}
}

// Scope is one set of counters.
type Scope struct {
	id  string
	lim Quota

	mu       sync.Mutex
	minute   int64 // window the counters belong to
	reqs     int64
	toks     int64
	parallel int64
	lastUse  int64 // minute of the last admission (user eviction)
	// outReqs and outToks are what this window admitted locally while
	// Redis was down: added to Redis when it is back
	// (redis_outage.go).
	outReqs, outToks int64
}

// NewScope is a scope named id (its counters' name in Redis) limited by
// lim.
func NewScope(id string, lim Quota) *Scope { return &Scope{id: id, lim: lim} }

// Counts are s's counters now: requests and tokens (spent and
// reserved) in the current window, and calls in flight (diagnostics).
func (s *Scope) Counts() (requests, tokens, inFlight int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reqs, s.toks, s.parallel
}

// Same reports whether s and o count the same thing under the same
// limits (a reload then keeps s's counters).
func (s *Scope) Same(o *Scope) bool { return s.id == o.id && s.lim == o.lim }

// roll moves the counters to minute m. Caller holds mu.
func (s *Scope) roll(m int64) {
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

// Admission is one request's hold on its scopes, kept in the server's pooled call.
type Admission struct {
	scopes [3]*Scope
	names  [3]string // "global", "key", "user"
	n      int
	// store admitted the call; the release goes to it (a reload may
	// have replaced the snapshot's store meanwhile).
	store store
	// remote is set when the admission was granted by Redis.
	remote bool
	member [32]byte // Redis lease member (process id + sequence)
	mlen   int
	// minute is the window the request was admitted (and its tokens
	// reserved) in.
	minute int64
	// reserve is the token estimate reserved in every scope (tokens.go);
	// 0 when no scope limits tokens.
	reserve int64
	// outage is set (to the number of replicas sharing the limits) when
	// the request is admitted locally because Redis is down: each scope
	// then admits up to its share of its limits.
	outage int64
}

// Add puts the call under scope s (nil: none), named for 429s.
func (a *Admission) Add(s *Scope, name string) {
	if s != nil {
		a.scopes[a.n], a.names[a.n] = s, name
		a.n++
	}
}

// Reset empties a: it holds no scope.
func (a *Admission) Reset() { *a = Admission{} }

// Held reports whether a holds any scope (the call is limited).
func (a *Admission) Held() bool { return a.n > 0 }

// Admit checks a's scopes in st and counts the call in all of them
// when each has room, reserving reserve tokens (EstimateTokens) where
// tokens are limited. st is the store a's release goes to.
func (a *Admission) Admit(st *Gate, reserve int64) Verdict {
	a.store, a.reserve = st.store, reserve
	v := a.store.admit(a)
	if !v.ok {
		a.Reset()
	}
	return v
}

// Release ends a's hold, settling its token reservation with the
// tokens the call spent (0 when it failed or reported none: the
// reservation is given back), and empties a.
func (a *Admission) Release(tokens int64) {
	if a.n == 0 {
		return
	}
	a.store.release(a, tokens)
	a.Reset()
}

// WantsTokens reports whether a scope counts tokens (so the answer's
// usage must be read).
func (a *Admission) WantsTokens() bool {
	for i := 0; i < a.n; i++ {
		if a.scopes[i].lim.TPM > 0 {
			return true
		}
	}
	return false
}

// Verdict is the outcome of an admission check, with what the
// x-ratelimit-* headers report (the tightest scope for requests and for
// tokens).
type Verdict struct {
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
func (v *Verdict) observe(l Quota, reqs, toks int64) {
	if l.RPM > 0 {
		rem := l.RPM - reqs
		if !v.hasReq || rem < v.remReq {
			v.hasReq, v.limReq, v.remReq = true, l.RPM, rem
		}
	}
	if l.TPM > 0 {
		rem := l.TPM - toks
		if !v.hasTok || rem < v.remTok {
			v.hasTok, v.limTok, v.remTok = true, l.TPM, rem
		}
	}
}

// limiter is the in-memory limiter.
type limiter struct {
	global  *Scope
	userLim Quota

	usersMu  sync.RWMutex
	users    map[string]*Scope
	overflow *Scope // users beyond maxUsers share it
	lastScan int64
	maxUsers int
	// names names the users' counters (shared with the key table).
	names CounterNamer

	now func() time.Time
}

// maxUsers bounds the per-user counters kept in memory: an attacker
// inventing user ids cannot grow the map beyond it (idle users are
// evicted; past that, new users share one overflow scope).
const maxUsers = 100_000

func newLimiter(globalParallel int64, userLim Quota) *limiter {
	l := &limiter{userLim: userLim, users: map[string]*Scope{}, maxUsers: maxUsers, now: time.Now}
	if globalParallel > 0 {
		l.global = NewScope("global", Quota{Parallel: globalParallel})
	}
	l.overflow = NewScope("u-overflow", userLim)
	return l
}

// user returns the scope of a memory user id (nil when users have no
// limits). Known users cost a map read and no allocation.
func (l *limiter) user(id []byte) *Scope {
	if !l.userLim.Any() || len(id) == 0 {
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
	s = NewScope(l.names.Name('u', id), l.userLim)
	s.lastUse = l.now().Unix() / 60
	l.users[string(id)] = s
	return s
}

// admit checks a's scopes and, when every one has room, counts the
// request in all of them. Scopes are locked in a fixed order (global,
// key, user), so the check and the count are one atomic step.
func (l *limiter) admit(a *Admission) Verdict {
	now := l.now()
	m := now.Unix() / 60
	v := Verdict{ok: true, reset: 60 - now.Unix()%60}
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
		case lim.Parallel > 0 && s.parallel >= lim.Parallel:
			kind, limit = limitParallel, lim.Parallel
		case lim.RPM > 0 && s.reqs >= lim.RPM:
			kind, limit = limitRPM, lim.RPM
		case lim.TPM > 0 && s.toks >= lim.TPM:
			kind, limit = limitTPM, lim.TPM
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
func (v *Verdict) counted(reserve int64) {
	if v.hasReq {
		v.remReq--
	}
	if v.hasTok {
		v.remTok -= reserve
	}
}

func (v *Verdict) setRetryAfter() {
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
// reservation settled with the tokens spent (settle, tokens.go).
func (l *limiter) release(a *Admission, tokens int64) {
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
// (redis_outage.go); release settles it like a local admission.
func (l *limiter) shadow(a *Admission, m int64) {
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
type store interface {
	admit(a *Admission) Verdict
	release(a *Admission, tokens int64)
	// status is the store's state for /health/readiness.
	status() (store string, healthy bool, detail string)
	close()
}

func (l *limiter) status() (string, bool, string) { return "memory", true, "" }
func (l *limiter) close()                         {}

// SetHeaders writes OpenAI's x-ratelimit-* headers.
func (v *Verdict) SetHeaders(h *fasthttp.ResponseHeader) {
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

// OK reports whether the call was admitted.
func (v *Verdict) OK() bool { return v.ok }

// RetryAfter is the Retry-After of a refusal, in seconds.
func (v *Verdict) RetryAfter() int64 { return v.retryAfter }

// Message says which limit refused the call and when to retry.
func (v *Verdict) Message() string {
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
