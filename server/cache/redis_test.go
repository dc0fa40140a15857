package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// testRedis returns a Redis store on LLMEDGE_TEST_REDIS under a prefix
// of its own (the shared server is never flushed).
func testRedis(t *testing.T) *Redis {
	t.Helper()
	addr := os.Getenv("LLMEDGE_TEST_REDIS")
	if addr == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("LLMEDGE_TEST_REDIS unset in CI")
		}
		t.Skip("LLMEDGE_TEST_REDIS unset")
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	r := NewRedis(redis.NewClient(&redis.Options{Addr: addr}), "llmedge-test:"+hex.EncodeToString(rnd[:])+":", addr)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func TestRedisHitMissAndTTL(t *testing.T) {
	r := testRedis(t)
	ctx, now := context.Background(), time.Now()
	kk := k(1)
	if e, err := r.Get(ctx, &kk, now); e != nil || err != nil {
		t.Fatalf("miss: %v %v", e, err)
	}
	e := testEntry(`{"id":"chatcmpl-0123456789","created":1700000000}`)
	e.Expires = now.Add(time.Hour).UnixMilli()
	if err := r.Set(ctx, &kk, e, time.Second); err != nil {
		t.Fatal(err)
	}
	got, err := r.Get(ctx, &kk, now)
	if err != nil || got == nil || string(got.Body) != string(e.Body) {
		t.Fatalf("hit: %v %v", got, err)
	}
	ttl, err := r.rdb.PTTL(ctx, r.redisKey(&kk)).Result()
	if err != nil || ttl <= 0 || ttl > time.Second {
		t.Fatalf("redis TTL %v (%v), want (0, 1s]", ttl, err)
	}
	// Expiry is Redis's: wait for the key to go, with a deadline.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got, _ := r.Get(ctx, &kk, time.Now()); got == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("entry still served 5s after its 1s TTL")
		}
		tick := time.NewTimer(50 * time.Millisecond)
		<-tick.C
	}
}

func TestRedisDownIsAnErrorNotAMiss(t *testing.T) {
	r := NewRedis(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1}), "x:", "127.0.0.1:1")
	defer r.Close()
	kk := k(1)
	if _, err := r.Get(context.Background(), &kk, time.Now()); err == nil {
		t.Fatal("a closed port answered")
	}
	c := &Cache{St: Settings{TTL: time.Minute, MaxEntryBytes: 1 << 20}, Store: r, Flights: NewFlights()}
	now := time.Now()
	if _, bypass := c.Get(&kk, now, 0); !bypass {
		t.Fatal("failed read is not a bypass")
	}
	if _, ok, detail := c.Status(); ok || detail == "" {
		t.Fatalf("status healthy=%v detail=%q after a failure", ok, detail)
	}
	if _, bypass := c.Get(&kk, now.Add(RetryAfter/2), 0); !bypass {
		t.Fatal("store asked again before RetryAfter")
	}
}
