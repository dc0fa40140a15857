package server

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/testredis"
)

// redisCacheParams is cache_params for a Redis cache on host:port under
// a namespace of the test's own (the shared Redis is never flushed).
func redisCacheParams(t *testing.T, host, port string, ttl time.Duration) *config.CacheParams {
	var b [6]byte
	_, _ = rand.Read(b[:])
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return &config.CacheParams{Type: "redis", Host: host, Port: n, Namespace: "test-" + hex.EncodeToString(b[:]), TTL: ttl}
}

func TestCacheRedisSharedByTwoGateways(t *testing.T) {
	host, port := testRedis(t)
	up := newFakeOpenAI(t)
	params := redisCacheParams(t, host, port, 0)
	a := startGateway(t, cacheConfig(up, params))
	b := startGateway(t, cacheConfig(up, params))
	if _, h := chatVia(t, a, "shared?"); h.Get("X-Llmedge-Cache") != "miss" {
		t.Fatal(h.Get("X-Llmedge-Cache"))
	}
	first, _ := sseChunks(t, a, `{"model":"m","stream":true,"messages":[{"role":"user","content":"streamed?"}]}`)
	if first.Get("X-Llmedge-Cache") != "miss" {
		t.Fatal("stream", first.Get("X-Llmedge-Cache"))
	}
	if _, h := chatVia(t, b, "shared?"); h.Get("X-Llmedge-Cache") != "hit" {
		t.Fatalf("the other gateway: %q", h.Get("X-Llmedge-Cache"))
	}
	h, chunks := sseChunks(t, b, `{"model":"m","stream":true,"messages":[{"role":"user","content":"streamed?"}]}`)
	if h.Get("X-Llmedge-Cache") != "hit" || len(chunks) != 8 {
		t.Fatalf("stream from the other gateway: %q in %d chunks", h.Get("X-Llmedge-Cache"), len(chunks))
	}
	if n := len(up.requests()); n != 2 {
		t.Fatalf("%d upstream calls, want 2", n)
	}
}

func TestCacheRedisTTLExpiry(t *testing.T) {
	host, port := testRedis(t)
	up := newFakeOpenAI(t)
	gw := startGateway(t, cacheConfig(up, redisCacheParams(t, host, port, time.Second)))
	chatVia(t, gw, "soon stale")
	if _, h := chatVia(t, gw, "soon stale"); h.Get("X-Llmedge-Cache") != "hit" {
		t.Fatal("no hit within the TTL")
	}
	// A per-request ttl outlives the settings' one.
	chatVia(t, gw, "kept longer", optionCache(map[string]any{"ttl": 60}))
	waitFor(t, 5*time.Second, "the 1s entry to expire", func() bool {
		_, h := chatVia(t, gw, "soon stale", optionCache(map[string]any{"no-store": true}))
		return h.Get("X-Llmedge-Cache") == "miss"
	})
	if _, h := chatVia(t, gw, "kept longer"); h.Get("X-Llmedge-Cache") != "hit" {
		t.Fatal("the request's ttl: 60 was not kept")
	}
}

func TestCacheRedisKilledMidRun(t *testing.T) {
	rd := testredis.Start(t)
	up := newFakeOpenAI(t)
	gw := startGateway(t, cacheConfig(up, redisCacheParams(t, "127.0.0.1", rd.Port, 0)))
	chatVia(t, gw, "before")
	if _, h := chatVia(t, gw, "before"); h.Get("X-Llmedge-Cache") != "hit" {
		t.Fatal("no hit with Redis up")
	}
	rd.Kill()
	// Requests keep working, answered upstream, marked bypass.
	for i := range 3 {
		c, h := chatVia(t, gw, "during")
		if h.Get("X-Llmedge-Cache") != "bypass" || c.Choices[0].Message.Content == "" {
			t.Fatalf("request %d with Redis down: %q", i, h.Get("X-Llmedge-Cache"))
		}
	}
	ready := rawRequest(t, gw, "GET", "/health/readiness", "").Body
	if !strings.Contains(ready, `"cache":{"type":"redis","healthy":false`) {
		t.Fatalf("readiness with Redis down: %s", ready)
	}
	m := rawRequest(t, gw, "GET", "/metrics", "", "Authorization: Bearer "+testMasterKey).Body
	if !strings.Contains(m, "llmedge_cache_up 0") || strings.Contains(m, "llmedge_cache_store_errors_total 0\n") {
		t.Fatalf("metrics with Redis down lack llmedge_cache_up 0 / store errors")
	}
	rd.Restart()
	waitFor(t, 10*time.Second, "the cache back after Redis restarted", func() bool {
		_, h := chatVia(t, gw, "after")
		return h.Get("X-Llmedge-Cache") == "hit"
	})
	if ready := rawRequest(t, gw, "GET", "/health/readiness", "").Body; !strings.Contains(ready, `"cache":{"type":"redis","healthy":true}`) {
		t.Fatalf("readiness after Redis came back: %s", ready)
	}
}
