package limits

import (
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// Config are the limits a config sets besides the keys' own (each key
// brings its Scope).
type Config struct {
	// GlobalParallel caps calls in flight across the gateway (every
	// process sharing Redis); 0 = unlimited.
	GlobalParallel int64
	// User limits each memory user id.
	User Quota
	// Redis, when enabled, shares the counters across processes.
	Redis Redis
}

// Gate admits the calls of one config snapshot: the in-memory limiter
// (which also owns the global and per-user scopes the Redis store
// names its counters after), alone or with Redis in front of it.
type Gate struct {
	conf  Config
	local *limiter
	store store
}

// NewGate builds the gate of a config. On a reload (prev set) counters
// carry over where their settings did not change: the limiter keeps
// its global and per-user counters, the Redis store its connections;
// a store prev no longer uses stops once the calls it admitted had
// time to finish (they release through it). A Redis setting that
// cannot be used is returned with a gate that limits in memory.
func NewGate(conf Config, names CounterNamer, prev *Gate, log *slog.Logger) (*Gate, error) {
	g := &Gate{conf: conf}
	if prev != nil && prev.conf.GlobalParallel == conf.GlobalParallel && prev.conf.User == conf.User && prev.local.names == names {
		g.local = prev.local
	} else {
		g.local = newLimiter(conf.GlobalParallel, conf.User)
		g.local.names = names
	}
	g.store = g.local
	var err error
	if conf.Redis.Enabled() {
		if rs, ok := prev.redisStore(); ok && prev.conf.Redis == conf.Redis && prev.local == g.local {
			g.store = rs
		} else if rs, rerr := newRedisStore(conf.Redis, g.local, log); rerr != nil {
			err = rerr
		} else {
			g.store = rs
		}
	}
	if prev != nil && prev.store != g.store {
		retire := prev.store
		if rs, ok := retire.(*redisStore); ok {
			rs.retire() // no longer one of the replicas
		}
		time.AfterFunc(redisLease, retire.close)
	}
	return g, err
}

func (g *Gate) redisStore() (*redisStore, bool) {
	if g == nil {
		return nil, false
	}
	rs, ok := g.store.(*redisStore)
	return rs, ok
}

// Redis is the client of the Redis the limits are kept on (nil when
// they are in memory): other state shared across replicas (translated
// responses) lives there too.
func (g *Gate) Redis() redis.UniversalClient {
	if rs, ok := g.redisStore(); ok {
		return rs.rdb
	}
	return nil
}

// Global is the gateway-wide scope (nil when unlimited).
func (g *Gate) Global() *Scope { return g.local.global }

// User is the scope of a memory user id (nil when users are not
// limited). Known users cost a map read and no allocation.
func (g *Gate) User(id []byte) *Scope { return g.local.user(id) }

// Status is the store's state for /health/readiness: "memory" or
// "redis", and when unhealthy why (never an address or a secret).
func (g *Gate) Status() (store string, healthy bool, detail string) { return g.store.status() }

// Close stops the store (Redis connections and background loops).
func (g *Gate) Close() { g.store.close() }
