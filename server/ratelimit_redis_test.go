package server

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
)

// Redis tests run against a real redis-server named by
// LLMEDGE_TEST_REDIS (host:port); .ci/run starts one on 127.0.0.1:6379.

func testRedis(t testing.TB) (host, port string) {
	addr := os.Getenv("LLMEDGE_TEST_REDIS")
	if addr == "" {
		t.Skip("LLMEDGE_TEST_REDIS not set (host:port of a redis-server)")
	}
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("LLMEDGE_TEST_REDIS=%q: %v", addr, err)
	}
	return h, p
}

func randomKey(t testing.TB) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "sk-redis-test-" + hex.EncodeToString(b[:])
}

func redisConfig(host, port string, key map[string]any, deps ...*config.Deployment) *config.Config {
	cfg := limitsConfig(map[string]any{"api_keys": []any{key}}, deps...)
	setSettings(cfg, "router_settings", map[string]any{"redis_host": host, "redis_port": port})
	return cfg
}

// awayFromMinuteEnd waits (at most 4s) so a test's requests fall in one
// fixed window.
func awayFromMinuteEnd() {
	if s := time.Now().Unix() % 60; s >= 56 {
		time.Sleep(time.Duration(61-s) * time.Second)
	}
}

func TestRedisTwoServersShareRPM(t *testing.T) {
	host, port := testRedis(t)
	up := newFakeOpenAI(t)
	key := randomKey(t)
	cfg := func() *config.Config {
		return redisConfig(host, port, map[string]any{"key": key, "rpm_limit": 5}, dep(0, "m", "openai/m", up.base(), "k"))
	}
	a, b := startGateway(t, cfg()), startGateway(t, cfg())
	awayFromMinuteEnd()
	ok, limited := 0, 0
	for i := 0; i < 12; i++ {
		gw := a
		if i%2 == 1 {
			gw = b
		}
		r := rawPost(t, gw, "/v1/chat/completions", hostileBody(""), key)
		switch r.StatusCode {
		case 200:
			ok++
		case 429:
			limited++
			if r.Header.Get("X-Ratelimit-Remaining-Requests") != "0" || r.Header.Get("Retry-After") == "" {
				t.Fatalf("429 headers: %v", r.Header)
			}
		default:
			t.Fatalf("status %d: %s", r.StatusCode, r.Body)
		}
	}
	if ok != 5 || limited != 7 {
		t.Fatalf("two servers admitted %d (limited %d), want exactly 5", ok, limited)
	}
	for _, gw := range []*gateway{a, b} {
		if st, healthy, _ := gw.srv.current().edge.gate.Status(); st != "redis" || !healthy {
			t.Fatalf("store %s healthy=%v", st, healthy)
		}
	}
}

func TestRedisTwoServersShareParallel(t *testing.T) {
	host, port := testRedis(t)
	up := newFakeOpenAI(t)
	release := make(chan struct{})
	var inUpstream atomic.Int64
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		inUpstream.Add(1)
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		answerJSON("ok")(w, r, body)
	})
	key := randomKey(t)
	cfg := func() *config.Config {
		return redisConfig(host, port, map[string]any{"key": key, "max_parallel_requests": 3}, dep(0, "m", "openai/m", up.base(), "k"))
	}
	gws := []*gateway{startGateway(t, cfg()), startGateway(t, cfg())}
	const n = 8
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(gw *gateway) {
			defer wg.Done()
			codes <- rawPost(t, gw, "/v1/chat/completions", hostileBody(""), key).StatusCode
		}(gws[i%2])
	}
	// The refused ones answer at once; the admitted ones wait upstream.
	limited := 0
	for limited < n-3 {
		select {
		case c := <-codes:
			if c != 429 {
				t.Fatalf("an over-limit request got %d", c)
			}
			limited++
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d refused", limited)
		}
	}
	waitFor(t, 5*time.Second, "3 requests upstream", func() bool { return inUpstream.Load() == 3 })
	close(release)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Fatalf("admitted request got %d", c)
		}
	}
	if inUpstream.Load() != 3 {
		t.Fatalf("%d requests reached upstream, limit 3", inUpstream.Load())
	}
	// Slots are released (asynchronously): a new request gets in.
	waitFor(t, 5*time.Second, "slot released", func() bool {
		return rawPost(t, gws[0], "/v1/chat/completions", hostileBody(""), key).StatusCode == 200
	})
}

// flakyProxy forwards TCP to Redis and can drop every connection.
type flakyProxy struct {
	ln     net.Listener
	target string
	down   atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newFlakyProxy(t *testing.T, target string) *flakyProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &flakyProxy{ln: ln, target: target}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if p.down.Load() {
				c.Close()
				continue
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			p.wg.Add(2)
			go func() { defer p.wg.Done(); _, _ = io.Copy(u, c); u.Close() }()
			go func() { defer p.wg.Done(); _, _ = io.Copy(c, u); c.Close() }()
		}
	}()
	t.Cleanup(func() { ln.Close(); p.cut(); p.wg.Wait() })
	return p
}

func (p *flakyProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func TestRedisOutageFallsBackToLocalAndReconnects(t *testing.T) {
	host, port := testRedis(t)
	proxy := newFlakyProxy(t, net.JoinHostPort(host, port))
	ph, pp, _ := net.SplitHostPort(proxy.ln.Addr().String())
	up := newFakeOpenAI(t)
	key := randomKey(t)
	gw := startGateway(t, redisConfig(ph, pp, map[string]any{"key": key, "rpm_limit": 1000}, dep(0, "m", "openai/m", up.base(), "k")))
	if r := rawPost(t, gw, "/v1/chat/completions", hostileBody(""), key); r.StatusCode != 200 {
		t.Fatalf("%d", r.StatusCode)
	}
	if _, healthy, _ := gw.srv.current().edge.gate.Status(); !healthy {
		t.Fatal("not on Redis")
	}
	proxy.down.Store(true)
	proxy.cut()
	// Requests keep being served, on local limits.
	for i := 0; i < 3; i++ {
		if r := rawPost(t, gw, "/v1/chat/completions", hostileBody(""), key); r.StatusCode != 200 {
			t.Fatalf("during outage: %d %s", r.StatusCode, r.Body)
		}
	}
	r := rawRequest(t, gw, "GET", "/health/readiness", "")
	if !strings.Contains(r.Body, `"store":"redis","healthy":false`) || !strings.Contains(r.Body, "unreachable") {
		t.Fatalf("readiness during outage: %s", r.Body)
	}
	if strings.Contains(r.Body, key) || strings.Contains(r.Body, proxy.ln.Addr().String()) {
		t.Fatal("key or Redis address in readiness (an unauthenticated route)")
	}
	proxy.down.Store(false)
	waitFor(t, 10*time.Second, "reconnect", func() bool {
		_, healthy, _ := gw.srv.current().edge.gate.Status()
		return healthy
	})
	if r := rawRequest(t, gw, "GET", "/health/readiness", ""); !strings.Contains(r.Body, `"store":"redis","healthy":true`) {
		t.Fatalf("readiness after reconnect: %s", r.Body)
	}
	if r := rawPost(t, gw, "/v1/chat/completions", hostileBody(""), key); r.StatusCode != 200 {
		t.Fatalf("after reconnect: %d", r.StatusCode)
	}
}

func TestRedisUnreachableAtStart(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	h, p, _ := net.SplitHostPort(addr)
	up := newFakeOpenAI(t)
	key := randomKey(t)
	gw := startGateway(t, redisConfig(h, p, map[string]any{"key": key, "rpm_limit": 2}, dep(0, "m", "openai/m", up.base(), "k")))
	codes := []int{}
	for i := 0; i < 3; i++ {
		codes = append(codes, rawPost(t, gw, "/v1/chat/completions", hostileBody(""), key).StatusCode)
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 {
		t.Fatalf("local limits not applied while Redis is down: %v", codes)
	}
}

// A parallel slot whose release fails during an outage is released once
// Redis is back, not held until its lease expires.
func TestRedisReleaseRetriedAfterOutage(t *testing.T) {
	host, port := testRedis(t)
	proxy := newFlakyProxy(t, net.JoinHostPort(host, port))
	ph, pp, _ := net.SplitHostPort(proxy.ln.Addr().String())
	up := newFakeOpenAI(t)
	release := make(chan struct{})
	var inUpstream atomic.Int64
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		if inUpstream.Add(1) == 1 {
			select {
			case <-release:
			case <-time.After(10 * time.Second):
			}
		}
		answerJSON("ok")(w, r, body)
	})
	key := randomKey(t)
	gw := startGateway(t, redisConfig(ph, pp, map[string]any{"key": key, "max_parallel_requests": 1}, dep(0, "m", "openai/m", up.base(), "k")))
	done := make(chan int, 1)
	go func() { done <- rawPost(t, gw, "/v1/chat/completions", hostileBody(""), key).StatusCode }()
	waitFor(t, 5*time.Second, "first request upstream", func() bool { return inUpstream.Load() == 1 })
	if r := rawPost(t, gw, "/v1/chat/completions", hostileBody(""), key); r.StatusCode != 429 {
		t.Fatalf("second parallel request: %d", r.StatusCode)
	}
	proxy.down.Store(true)
	proxy.cut()
	close(release)
	if c := <-done; c != 200 {
		t.Fatalf("held request: %d", c)
	}
	waitFor(t, 5*time.Second, "outage noticed", func() bool { _, ok, _ := gw.srv.current().edge.gate.Status(); return !ok })
	proxy.down.Store(false)
	waitFor(t, 10*time.Second, "reconnect", func() bool { _, ok, _ := gw.srv.current().edge.gate.Status(); return ok })
	if r := rawPost(t, gw, "/v1/chat/completions", hostileBody(""), key); r.StatusCode != 200 {
		t.Fatalf("slot still held after Redis came back: %d %s", r.StatusCode, r.Body)
	}
}
