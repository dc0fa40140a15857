package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"github.com/llmedge/llmedge/server/limits"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A key's Redis counters used to be named after the first 64 bits of
// its plain SHA-256: anyone reading Redis could test candidate keys
// offline. They are now an HMAC keyed by a per-deployment secret.
func TestRedisCounterNamesDoNotRevealKeyDigest(t *testing.T) {
	host, port := testRedis(t)
	up := newFakeOpenAI(t)
	key := randomKey(t)
	gw := startGateway(t, redisConfig(host, port, map[string]any{"key": key, "rpm_limit": 100}, dep(0, "m", "openai/m", up.base(), "k")))
	if r := rawPost(t, gw, "/v1/chat/completions", hostileBody(""), key); r.StatusCode != 200 {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	rdb := redis.NewClient(&redis.Options{Addr: net.JoinHostPort(host, port)})
	defer rdb.Close()
	d := sha256.Sum256([]byte(key))
	plain := hex.EncodeToString(d[:8])
	var sc *apiKey // its id names its counters
	for _, k := range gw.srv.current().auth.keys {
		if k.digest == d {
			sc = k
		}
	}
	if sc == nil || strings.Contains(sc.id, plain) || len(sc.id) < 1+32 {
		t.Fatalf("key scope id %q: want a 128-bit keyed hash, not the digest prefix %s", sc.id, plain)
	}
	ctx := context.Background()
	if n, err := rdb.Exists(ctx, "{llmedge}:rl:"+sc.id+":r:"+minuteOf(gw)).Result(); err != nil || n != 1 {
		t.Fatalf("counter %s not in Redis (%v)", sc.id, err)
	}
	iter := rdb.Scan(ctx, 0, "*"+plain+"*", 1000).Iterator()
	for iter.Next(ctx) {
		t.Errorf("Redis key %q carries the key's plain SHA-256 prefix", iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
}

func minuteOf(gw *gateway) string {
	return strconv.FormatInt(time.Now().Unix()/60, 10)
}

func TestCounterNamesDependOnTheDeploymentSecret(t *testing.T) {
	keys := []keyConf{{key: "sk-shared-0123456789", name: "a", lim: limits.Quota{RPM: 1}}}
	a := newAuthenticatorFrom("master-one-123", keys)
	b := newAuthenticatorFrom("master-one-123", keys)
	c := newAuthenticatorFrom("master-two-456", keys)
	if a.keys[1].id != b.keys[1].id {
		t.Fatal("replicas with the same config name the key's counters differently")
	}
	if a.keys[1].id == c.keys[1].id {
		t.Fatal("deployments with different secrets share counter names")
	}
}
