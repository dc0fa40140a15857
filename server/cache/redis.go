package cache

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisTimeout bounds one cache round trip to Redis: past it the
// request goes upstream as a bypass and Redis is marked down.
const RedisTimeout = 100 * time.Millisecond

// Redis is the shared store: gateways pointing at one Redis share
// answers. Each entry is one string value under prefix+hex(key), with
// the entry's TTL as the key's expiry.
type Redis struct {
	rdb    redis.UniversalClient
	prefix string
	where  string
}

// RedisConf says where the Redis is (URL wins over Addr). The server
// opens the client (package replicas: TLS, Sentinel and Cluster as for
// router_settings).
type RedisConf struct {
	URL, Addr, Username, Password string
	DB                            int
}

// NewRedis returns a Redis store on rdb whose keys start with prefix;
// where names it in logs (never with a password).
func NewRedis(rdb redis.UniversalClient, prefix, where string) *Redis {
	return &Redis{rdb: rdb, prefix: prefix, where: where}
}

// Name implements Store.
func (r *Redis) Name() string { return "redis" }

// Where is the Redis address (for logs; never the password).
func (r *Redis) Where() string { return r.where }

// Close implements Store.
func (r *Redis) Close() error { return r.rdb.Close() }

func (r *Redis) redisKey(k *Key) string {
	b := make([]byte, 0, len(r.prefix)+64)
	b = append(b, r.prefix...)
	return string(k.Hex(b))
}

// Get implements Store.
func (r *Redis) Get(ctx context.Context, k *Key, now time.Time) (*Entry, error) {
	ctx, cancel := context.WithTimeout(ctx, RedisTimeout)
	defer cancel()
	b, err := r.rdb.Get(ctx, r.redisKey(k)).Bytes()
	if err == redis.Nil {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	e, err := Decode(b)
	if err != nil || e.Expired(now) {
		return nil, nil // another version's entry, or one expiring now: a miss
	}
	return e, nil
}

// Set implements Store. ttl 0 keeps the entry until Redis evicts it
// (its maxmemory policy).
func (r *Redis) Set(ctx context.Context, k *Key, e *Entry, ttl time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, RedisTimeout)
	defer cancel()
	return r.rdb.Set(ctx, r.redisKey(k), e.Encode(nil), ttl).Err()
}

// Ping checks that Redis answers (readiness probe after a failure).
func (r *Redis) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, RedisTimeout)
	defer cancel()
	return r.rdb.Ping(ctx).Err()
}
