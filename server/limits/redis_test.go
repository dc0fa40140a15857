package limits

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmedge/llmedge/internal/testredis"
	"github.com/llmedge/llmedge/internal/wait"
)

// Redis tests run against a real redis-server named by
// LLMEDGE_TEST_REDIS (host:port); .ci/run starts one on 127.0.0.1:6379.
// Tests that go through the HTTP server are in server/ratelimit_redis_test.go.

func testRedis(t testing.TB) Redis {
	addr := os.Getenv("LLMEDGE_TEST_REDIS")
	if addr == "" {
		t.Skip("LLMEDGE_TEST_REDIS not set (host:port of a redis-server)")
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		t.Fatalf("LLMEDGE_TEST_REDIS=%q: %v", addr, err)
	}
	return Redis{Addrs: addr}
}

func randomID(t testing.TB) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "k-redis-test-" + hex.EncodeToString(b[:])
}

func discardSlog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	wait.For(t, d, what, cond)
}

// replicaGates are n gates sharing r, as n llmedge processes with the
// same config would be, each knowing there are n replicas.
func replicaGates(t *testing.T, r Redis, n int) []*Gate {
	t.Helper()
	var gs []*Gate
	for i := 0; i < n; i++ {
		g, err := NewGate(Config{Redis: r}, NewCounterNamer("master-test-key", nil), nil, discardSlog())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(g.Close)
		gs = append(gs, g)
	}
	for range 2 {
		for _, g := range gs {
			rs, _ := g.redisStore()
			rs.heartbeat() // each sees the others
		}
	}
	for i, g := range gs {
		if rs, _ := g.redisStore(); rs.replicas.Load() != int64(n) {
			t.Fatalf("gate %d sees %d replicas, want %d", i, rs.replicas.Load(), n)
		}
	}
	return gs
}

// BenchmarkRedisAdmitRelease: one admission (one EVALSHA round trip)
// plus its release, for a key with rpm, tpm and parallel limits.
func BenchmarkRedisAdmitRelease(b *testing.B) {
	st, err := newRedisStore(testRedis(b), newLimiter(0, Quota{}), discardSlog())
	if err != nil {
		b.Fatal(err)
	}
	defer st.close()
	k := NewScope(randomID(b), Quota{RPM: 1 << 40, TPM: 1 << 40, Parallel: 1 << 20})
	b.ReportAllocs()
	var a Admission
	for b.Loop() {
		a.Reset()
		a.Add(k, "key")
		if v := st.admit(&a); !v.ok || !a.remote {
			b.Fatalf("%+v remote=%v", v, a.remote)
		}
		st.release(&a, 10)
	}
}

// BenchmarkRedisPing is the bare round trip, for scale.
func BenchmarkRedisPing(b *testing.B) {
	st, err := newRedisStore(testRedis(b), newLimiter(0, Quota{}), discardSlog())
	if err != nil {
		b.Fatal(err)
	}
	defer st.close()
	for b.Loop() {
		if err := st.rdb.Ping(context.Background()).Err(); err != nil {
			b.Fatal(err)
		}
	}
}

// 200 concurrent requests against tpm_limit 1000 used to be admitted
// all at once; each admission now reserves its estimate, in Redis too:
// two replicas admit a burst all of whose answers complete only after
// every admission was decided, and spend at most the limit plus one
// estimate.
func TestRedisTPMReservedAtAdmissionUnderConcurrency(t *testing.T) {
	gs := replicaGates(t, testRedis(t), 2)
	id := randomID(t)
	const estimate, spentEach = 100, 70
	var admitted atomic.Int64
	var decided, done sync.WaitGroup
	awayFromMinuteEnd()
	// 60, not 200: on a loaded 2-core machine under -race, 200 at once
	// can queue past the 250 ms Redis timeout.
	const n = 60
	decided.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func(g *Gate) {
			defer done.Done()
			var a Admission
			a.Add(NewScope(id, Quota{TPM: 1000}), "key")
			v := a.Admit(g, estimate)
			decided.Done()
			if !v.OK() {
				return
			}
			admitted.Add(1)
			decided.Wait() // no answer settles before all were decided
			a.Release(spentEach)
		}(gs[i%2])
	}
	done.Wait()
	bound := int64(1000 + estimate)
	for _, g := range gs {
		rs, _ := g.redisStore()
		rs.mu.Lock()
		if !rs.since.IsZero() {
			// Redis timed out under load for a replica: the documented
			// outage bound (docs/security.md) applies, limit +
			// (R-1)*ceil(limit/R) + one estimate per replica.
			t.Log("a replica fell back to local limits during the burst")
			bound = 1000 + 500 + 2*estimate
		}
		rs.mu.Unlock()
	}
	if spent := admitted.Load() * spentEach; spent > bound || admitted.Load() == 0 {
		t.Fatalf("two replicas admitted %d: %d tokens spent, bound %d", admitted.Load(), spent, bound)
	}
}

// awayFromMinuteEnd waits (at most 4s) so a test's admissions fall in
// one fixed window.
func awayFromMinuteEnd() {
	if s := time.Now().Unix() % 60; s >= 56 {
		time.Sleep(time.Duration(61-s) * time.Second)
	}
}

// withinOneWindow waits, if needed, for a fixed minute with at least
// need left, and returns it.
func withinOneWindow(need time.Duration) int64 {
	if left := 60 - time.Now().Unix()%60; time.Duration(left)*time.Second < need {
		time.Sleep(time.Duration(left) * time.Second)
	}
	return time.Now().Unix() / 60
}

// Two replicas at rpm 100 admitted 360 in one minute across a Redis
// restart: each local fallback started at zero, then the restarted
// Redis did. Now each replica admits only its share while Redis is down
// and tells the restarted Redis what it admitted.
func TestRedisRestartDoesNotAddWindows(t *testing.T) {
	rd := testredis.Start(t)
	const limit = 20
	gs := replicaGates(t, Redis{Addrs: rd.Addr()}, 2)
	id := randomID(t)
	// Each replica has its own scope object for the key, named alike.
	scopes := []*Scope{NewScope(id, Quota{RPM: limit}), NewScope(id, Quota{RPM: limit})}
	minute := withinOneWindow(15 * time.Second)
	admitted := make([]int, 2)
	send := func(n int) {
		for i := 0; i < n; i++ {
			for g, gate := range gs {
				var a Admission
				a.Add(scopes[g], "key")
				if v := a.Admit(gate, 0); v.OK() {
					admitted[g]++
					a.Release(0)
				}
			}
		}
	}
	send(3) // 6 through Redis
	before := admitted[0] + admitted[1]
	rd.Kill()
	send(limit) // Redis down: local limits
	for i, g := range gs {
		if _, healthy, _ := g.Status(); healthy {
			t.Fatalf("replica %d did not notice the outage", i)
		}
	}
	during := admitted[0] + admitted[1] - before
	rd.Restart() // a fresh, empty Redis on the same port
	for _, g := range gs {
		waitFor(t, 10*time.Second, "back on Redis", func() bool { _, ok, _ := g.Status(); return ok })
	}
	send(limit)
	total := admitted[0] + admitted[1]
	if now := time.Now().Unix() / 60; now != minute {
		t.Fatalf("the test crossed a minute boundary (%d -> %d): counts are not one window's", minute, now)
	}
	// Load spread evenly: each replica admits up to ceil(limit/2) of its
	// own count during the outage, and Redis, told all of it, no more.
	share := (limit + 1) / 2
	bound := max(limit, 2*max(before/2, share))
	t.Logf("admitted %d before the outage, %d during, %d in all (per replica %v)", before, during, total, admitted)
	if total > bound {
		t.Fatalf("window admitted %d across a Redis restart, bound %d", total, bound)
	}
}
