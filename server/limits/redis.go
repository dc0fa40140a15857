package limits

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmedge/llmedge/server/replicas"
	"github.com/redis/go-redis/v9"
)

// Shared limits through Redis (router_settings.redis_host / redis_port
// / redis_password, or redis_url): every llmedge process sharing the
// Redis admits against the same counters, so together they never
// exceed a limit.
//
// One admission is one EVALSHA round trip running admitScript, which
// checks every scope and counts the request in all of them atomically.
// Counters:
//   - {llmedge}:rl:<scope>:r:<minute>  requests in the minute (INCR, expires after 2 min)
//   - {llmedge}:rl:<scope>:t:<minute>  tokens in the minute: reserved at
//     admission, settled at release (tokens.go)
//   - {llmedge}:rl:<scope>:p           requests in flight: a sorted set of
//     leases (member = process id + sequence, score = lease expiry), so a
//     process that dies does not hold its slots beyond redisLease.
//
// The {llmedge} hash tag keeps every key in one Redis Cluster slot.
// Key and user scope ids are 128-bit keyed hashes (counternames.go):
// the keyspace reveals neither a key nor a memory user id.
//
// If Redis cannot be reached (or answers too slowly), requests are
// admitted by the in-memory limiter instead, each replica up to its
// share of every limit, counting what it had admitted through Redis
// (redis_outage.go). The outage is logged once, shown in
// /health/readiness, and a background probe switches back as soon as
// Redis answers again, after adding to it what was admitted meanwhile.

const (
	// redisTimeout bounds one admission round trip: past it the request
	// is admitted locally and Redis is marked unreachable.
	redisTimeout = replicas.Timeout
	// redisLease is how long a parallel-request slot is held at most if
	// its release never arrives (the process died). Longer than the
	// default upstream timeout.
	redisLease = 15 * time.Minute
	// redisProbe is the interval of the reconnect probe.
	redisProbe = time.Second
	// maxPendingReleases bounds the releases kept for a Redis outage.
	maxPendingReleases = 10_000
)

// admitScript: KEYS are (requests, tokens, parallel) per scope; ARGV are
// now (ms), lease expiry (ms), lease member, token reservation, then
// (rpm, tpm, parallel) per scope. It returns {1, used requests/tokens
// per scope...} when the request is admitted (and counted, its tokens
// reserved), or {0, scope index, kind, limit, used requests, used
// tokens} for the scope that refused it.
var admitScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local reserve = tonumber(ARGV[4])
local n = #KEYS / 3
local used = {1}
for j = 0, n - 1 do
  local rpm = tonumber(ARGV[5 + 3*j])
  local tpm = tonumber(ARGV[6 + 3*j])
  local par = tonumber(ARGV[7 + 3*j])
  local r = tonumber(redis.call('GET', KEYS[1 + 3*j]) or '0')
  local t = tonumber(redis.call('GET', KEYS[2 + 3*j]) or '0')
  if par > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[3 + 3*j], '-inf', now)
    if redis.call('ZCARD', KEYS[3 + 3*j]) >= par then return {0, j, 1, par, r, t} end
  end
  if rpm > 0 and r >= rpm then return {0, j, 2, rpm, r, t} end
  if tpm > 0 and t >= tpm then return {0, j, 3, tpm, r, t} end
  used[#used + 1] = r
  used[#used + 1] = t
end
for j = 0, n - 1 do
  redis.call('INCR', KEYS[1 + 3*j])
  redis.call('EXPIRE', KEYS[1 + 3*j], 120)
  if reserve > 0 and tonumber(ARGV[6 + 3*j]) > 0 then
    redis.call('INCRBY', KEYS[2 + 3*j], reserve)
    redis.call('EXPIRE', KEYS[2 + 3*j], 120)
  end
  if tonumber(ARGV[7 + 3*j]) > 0 then
    redis.call('ZADD', KEYS[3 + 3*j], ARGV[2], ARGV[3])
    redis.call('PEXPIREAT', KEYS[3 + 3*j], ARGV[2])
  end
end
return used
`)

// releaseScript: KEYS are (tokens, parallel) per scope; ARGV are the
// token settlement (added to the tokens key: negative gives back the
// unused part of the reservation), lease member, then (tpm, parallel)
// per scope. A count that would go below zero (Redis lost the
// reservation) is removed.
var releaseScript = redis.NewScript(`
local d = tonumber(ARGV[1])
for j = 0, #KEYS / 2 - 1 do
  if d ~= 0 and tonumber(ARGV[3 + 2*j]) > 0 then
    if redis.call('INCRBY', KEYS[1 + 2*j], d) <= 0 then
      redis.call('DEL', KEYS[1 + 2*j])
    else
      redis.call('EXPIRE', KEYS[1 + 2*j], 120)
    end
  end
  if tonumber(ARGV[4 + 2*j]) > 0 then
    redis.call('ZREM', KEYS[2 + 2*j], ARGV[2])
  end
end
return 1
`)

// Redis is where shared limits are counted: router_settings' Redis
// keys as server/replicas reads them (one node, Sentinel or Cluster,
// TLS), the same Redis the replicas share their other state on.
type Redis = replicas.Conf

type redisStore struct {
	rdb   redis.UniversalClient
	local *limiter
	log   *slog.Logger
	where string // host:port, for logs (never the password)

	proc string // this process's lease prefix
	seq  atomic.Uint64

	up      atomic.Bool
	mu      sync.Mutex
	since   time.Time
	probing bool

	// replicas is how many replicas shared the limits when last seen
	// (heartbeat); runID the Redis instance's, to notice a restart;
	// touched the scopes admitted in minute touchedMin (to seed).
	replicas    atomic.Int64
	replicasKey string
	retired     atomic.Bool
	runID       string
	tmu         sync.Mutex
	touched     map[*Scope]struct{}
	touchedMin  int64

	releases chan redisRelease
	// pending are releases that failed while Redis was unreachable; they
	// are sent again once it is back, so its parallel slots do not stay
	// held until their leases expire.
	pending []redisRelease
	stop    chan struct{}
	wg      sync.WaitGroup
}

type redisRelease struct {
	keys []string
	args []any
}

func newRedisStore(c Redis, local *limiter, log *slog.Logger) (*redisStore, error) {
	// No retries: a failed round trip falls back to local limits.
	rdb, err := replicas.Open(c)
	if err != nil {
		return nil, err
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	s := &redisStore{
		rdb:      rdb,
		local:    local,
		log:      log,
		where:    c.Where(),
		proc:     hex.EncodeToString(rnd[:]),
		releases: make(chan redisRelease, 4096),
		stop:     make(chan struct{}),
		touched:  map[*Scope]struct{}{},
		// Named like the counters: deployments sharing a Redis with
		// different secrets do not count each other's replicas.
		replicasKey: "{llmedge}:replicas:" + local.names.Name('r', nil),
	}
	s.up.Store(true)
	s.wg.Add(2)
	go s.releaseLoop()
	go s.heartbeatLoop()
	return s, nil
}

func (s *redisStore) admit(a *Admission) Verdict {
	if !s.up.Load() {
		return s.admitLocal(a)
	}
	now := s.local.now()
	m := now.Unix() / 60
	ms := strconv.FormatInt(m, 10)
	keys := make([]string, 0, 3*a.n)
	args := make([]any, 0, 4+3*a.n)
	member := s.proc + ":" + strconv.FormatUint(s.seq.Add(1), 36)
	args = append(args, now.UnixMilli(), now.Add(redisLease).UnixMilli(), member, a.reserve)
	for i := 0; i < a.n; i++ {
		sc := a.scopes[i]
		p := "{llmedge}:rl:" + sc.id
		keys = append(keys, p+":r:"+ms, p+":t:"+ms, p+":p")
		args = append(args, sc.lim.RPM, sc.lim.TPM, sc.lim.Parallel)
	}
	ctx, cancel := context.WithTimeout(context.Background(), redisTimeout)
	res, err := admitScript.Run(ctx, s.rdb, keys, args...).Int64Slice()
	cancel()
	if err != nil {
		s.down(err)
		return s.admitLocal(a)
	}
	v := Verdict{ok: res[0] == 1, reset: 60 - now.Unix()%60}
	if !v.ok {
		if len(res) == 6 && res[1] >= 0 && int(res[1]) < a.n {
			v.scope, v.kind, v.limit = a.names[res[1]], int(res[2]), res[3]
			v.observe(a.scopes[res[1]].lim, res[4], res[5])
		}
		v.setRetryAfter()
		return v
	}
	for i := 0; i < a.n && 2+2*i < len(res); i++ {
		v.observe(a.scopes[i].lim, res[1+2*i], res[2+2*i])
	}
	v.counted(a.reserve)
	a.remote = true
	a.minute = m
	a.mlen = copy(a.member[:], member)
	s.local.shadow(a, m)
	s.touch(a, m)
	return v
}

func (s *redisStore) release(a *Admission, tokens int64) {
	s.local.release(a, tokens) // the local count or the shadow
	if !a.remote {
		return
	}
	m := s.local.now().Unix() / 60
	ms := strconv.FormatInt(m, 10)
	r := redisRelease{keys: make([]string, 0, 2*a.n), args: make([]any, 0, 2+2*a.n)}
	r.args = append(r.args, a.settle(m, tokens), string(a.member[:a.mlen]))
	for i := 0; i < a.n; i++ {
		sc := a.scopes[i]
		p := "{llmedge}:rl:" + sc.id
		r.keys = append(r.keys, p+":t:"+ms, p+":p")
		r.args = append(r.args, sc.lim.TPM, sc.lim.Parallel)
	}
	select {
	case s.releases <- r:
	default:
		s.runRelease(r) // queue full: do it inline
	}
}

// releaseLoop sends releases off the request path: a non-stream answer
// is not held back by a round trip that only frees a slot.
func (s *redisStore) releaseLoop() {
	defer s.wg.Done()
	for {
		select {
		case r := <-s.releases:
			s.runRelease(r)
		case <-s.stop:
			for {
				select {
				case r := <-s.releases:
					s.runRelease(r)
				default:
					return
				}
			}
		}
	}
}

func (s *redisStore) runRelease(r redisRelease) {
	ctx, cancel := context.WithTimeout(context.Background(), redisTimeout)
	defer cancel()
	if err := releaseScript.Run(ctx, s.rdb, r.keys, r.args...).Err(); err != nil {
		s.mu.Lock()
		if len(s.pending) < maxPendingReleases {
			s.pending = append(s.pending, r)
		} // else: the lease expires by itself after redisLease
		s.mu.Unlock()
		s.down(err)
	}
}

// down switches to local limits after a failure that is the
// connection's (a Redis error reply is logged but keeps Redis in use).
func (s *redisStore) down(err error) {
	var re redis.Error
	if errors.As(err, &re) && !replicas.IsConnErr(err) {
		s.log.Error("rate-limit script failed on Redis; this request was limited locally", "redis", s.where, "err", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.up.Load() {
		return
	}
	s.up.Store(false)
	s.since = time.Now()
	s.log.Warn("Redis unreachable: rate limits now hold per process (local) until it is back", "redis", s.where, "err", err.Error())
	if !s.probing {
		s.probing = true
		s.wg.Add(1)
		go s.probe()
	}
}

// probe pings Redis until it answers, then switches back to it.
func (s *redisStore) probe() {
	defer s.wg.Done()
	t := time.NewTicker(redisProbe)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), redisTimeout)
		err := s.rdb.Ping(ctx).Err()
		cancel()
		if err != nil {
			continue
		}
		s.mu.Lock()
		pending := s.pending
		s.pending = nil
		s.mu.Unlock()
		for _, r := range pending {
			s.runRelease(r)
		}
		// Add what was admitted locally meanwhile (all this replica
		// admitted in the window if Redis restarted and lost it), then
		// what was admitted while that ran.
		restarted, _ := s.checkRunID()
		s.seed(restarted)
		s.mu.Lock()
		s.up.Store(true)
		s.probing = false
		s.log.Info("Redis reachable again: rate limits are shared across processes", "redis", s.where, "down_for", time.Since(s.since).Round(time.Millisecond).String(), "restarted", restarted)
		s.mu.Unlock()
		s.seed(false)
		return
	}
}

func (s *redisStore) status() (string, bool, string) {
	if s.up.Load() {
		return "redis", true, ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// /health/readiness answers anyone: no address and no error text
	// (they name internal hosts); both are in the outage's log line.
	return "redis", false, "Redis unreachable since " + s.since.UTC().Format(time.RFC3339) + ": limits hold per process until it is back"
}

func (s *redisStore) close() {
	select {
	case <-s.stop:
		return
	default:
	}
	close(s.stop)
	s.wg.Wait()
	s.leave()
	_ = s.rdb.Close()
}
