package cache

import (
	"context"
	"time"

	"github.com/llmedge/llmedge/internal/redisconn"
	"github.com/redis/go-redis/v9"
)

// RedisTimeout bounds one cache round trip to Redis: past it the
// request goes upstream as a bypass and Redis is marked down.
const RedisTimeout = 100 * time.Millisecond

// Redis is the shared store: gateways pointing at one Redis share
// answers. Each entry is one string value under prefix+hex(key), with
// the entry's TTL as the key's expiry.
type Redis struct {
	rdb    *redis.Client
	prefix string
	where  string
}

// RedisConf says where the Redis is (url wins over addr).
type RedisConf struct {
	URL, Addr, Username, Password string
	DB                            int
}

// NewRedis returns a Redis store whose keys start with prefix. It does
// not connect: the first Get or Set does.
func NewRedis(c RedisConf, prefix string) (*Redis, error) {
	opt, err := redisconn.Options(c.URL, c.Addr, c.Username, c.Password, c.DB, RedisTimeout)
	if err != nil {
		return nil, err
	}
	return &Redis{rdb: redis.NewClient(opt), prefix: prefix, where: opt.Addr}, nil
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
