package respstore

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Store on Redis: one hash per response under prefix+id,
// expiring after ttl, so any replica sharing the Redis can continue or
// read a response another one made. The prefix carries the gateway's
// namespace (a keyed hash of its master key), so gateways of different
// master keys sharing one Redis never reach each other's responses;
// within one, the hash's "o" field names the owner.
type Redis struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
	// maxBytes bounds one entry (Redis memory is the operator's).
	maxBytes int
}

// NewRedis returns a Redis store (ttl 0 = DefaultTTL).
func NewRedis(rdb redis.UniversalClient, prefix string, ttl time.Duration, maxBytes int) *Redis {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	return &Redis{rdb: rdb, prefix: prefix, ttl: ttl, maxBytes: maxBytes}
}

// Get implements Store.
func (r *Redis) Get(ctx context.Context, id, owner string) (*Entry, bool, error) {
	vals, err := r.rdb.HMGet(ctx, r.prefix+id, "r", "c", "m", "o", "i").Result()
	if err != nil {
		return nil, false, err
	}
	resp, ok1 := vals[0].(string)
	conv, ok2 := vals[1].(string)
	model, _ := vals[2].(string)
	have, _ := vals[3].(string)
	if !ok1 || !ok2 || !ownedBy(have, owner) {
		return nil, false, nil
	}
	e := &Entry{Response: []byte(resp), Conversation: []byte(conv), Model: model, Owner: have}
	if in, ok := vals[4].(string); ok {
		e.Input = []byte(in)
	}
	return e, true, nil
}

// Put implements Store.
func (r *Redis) Put(ctx context.Context, id string, e *Entry) error {
	if e.Owner == "" {
		return ErrNoOwner
	}
	if e.size() > r.maxBytes {
		return ErrTooLarge
	}
	key := r.prefix + id
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, "r", e.Response, "c", e.Conversation, "m", e.Model, "o", e.Owner, "i", e.Input)
		p.PExpire(ctx, key, r.ttl)
		return nil
	})
	return err
}

// deleteOwned deletes KEYS[1] when its owner is ARGV[1] (or ARGV[1] is
// AnyOwner) in one step: no window between the check and the delete.
// One key, so it runs on Redis Cluster as it is.
var deleteOwned = redis.NewScript(`
local o = redis.call('HGET', KEYS[1], 'o')
if not o or o == '' or (ARGV[1] ~= '*' and o ~= ARGV[1]) then return 0 end
return redis.call('DEL', KEYS[1])
`)

// Delete implements Store.
func (r *Redis) Delete(ctx context.Context, id, owner string) (bool, error) {
	n, err := deleteOwned.Run(ctx, r.rdb, []string{r.prefix + id}, owner).Int()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	return n > 0, err
}
