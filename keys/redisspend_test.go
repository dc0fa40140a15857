package keys

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmedge/llmedge/internal/testredis"
	"github.com/llmedge/llmedge/internal/wait"
	"github.com/redis/go-redis/v9"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// redisCache is a cache on its own SQLite file with one key (budget 1,
// budget_duration dur when set, its period ending at resetAt) using
// rdb under a namespace of its own. It returns the key's entry and the
// namespace.
func redisCache(t *testing.T, rdb redis.UniversalClient, dur string, resetAt int64) (*Cache, *Entry, string, *lockedBuf) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := Open(ctx, "sqlite:///"+filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	b := 1.0
	k := Key{KeyName: "sk-...abcd", Account: Account{Limits: Limits{MaxBudget: &b}}}
	if dur != "" {
		k.BudgetDuration = &dur
	}
	data, _ := json.Marshal(k)
	if err := st.Put(ctx, Row{Kind: KindKey, ID: Hash("sk-test-abcd"), Data: data, ResetAt: resetAt}, true); err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuf{}
	c, err := NewCache(ctx, st, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Close(ctx)
		_ = st.Close()
	})
	var rb [8]byte
	_, _ = rand.Read(rb[:])
	ns := "test-" + hex.EncodeToString(rb[:])
	c.UseRedis(rdb, ns)
	d, _ := digestOf(Hash("sk-test-abcd"))
	e := c.Lookup(&d)
	if e == nil {
		t.Fatal("key not cached")
	}
	return c, e, ns, logs
}

func redisFloat(t *testing.T, rdb redis.UniversalClient, name string) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := rdb.Get(ctx, name).Result()
	if err == redis.Nil {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

func storedKeySpend(t *testing.T, c *Cache) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rows, err := c.store.Spends(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Kind == KindKey {
			return r.Spend
		}
	}
	return -1
}

func near(a, b float64) bool { return a > b-1e-9 && a < b+1e-9 }

// TestRedisSpendOutage: spend another replica adds to Redis counts in
// this one's budget check within a refresh; with Redis down the check
// falls back to the database's spend (with one warning), spend goes on
// reaching the database, and what was not sent reaches a restarted
// (empty) Redis on top of the database's spend: over, never under.
func TestRedisSpendOutage(t *testing.T) {
	srv := testredis.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	other := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer other.Close()
	c, e, ns, logs := redisCache(t, rdb, "", 0)
	name := "{llmedge}:spend:" + ns + ":k:" + Hash("sk-test-abcd") + ":0"
	now := func() int64 { return time.Now().UnixMilli() }
	if e.OverBudget(now()) != "" {
		t.Fatal("over budget at 0")
	}
	ctx := context.Background()
	if err := other.IncrByFloat(ctx, name, 2).Err(); err != nil { // another replica's spend
		t.Fatal(err)
	}
	start := time.Now()
	wait.For(t, 2*time.Second, "the other replica's spend to count", func() bool { return e.OverBudget(now()) != "" })
	if d := time.Since(start); d >= PollInterval {
		t.Errorf("seen after %v: not within a Redis refresh", d)
	}
	srv.Kill()
	wait.For(t, 5*time.Second, "the fallback to the database's spend", func() bool {
		return e.OverBudget(now()) == "" && strings.Contains(logs.String(), "Redis unreachable")
	})
	c.AddSpend(e, &Usage{RequestID: []byte("r1"), Model: "m", Cost: 0.4, Start: time.Now(), End: time.Now()})
	wait.For(t, 5*time.Second, "the database to receive the spend", func() bool { return near(storedKeySpend(t, c), 0.4) })
	if s := e.KeySpend(now()); !near(s, 0.4) {
		t.Fatalf("spend %v during the outage, want the database's 0.4", s)
	}
	srv.Restart() // empty: the counter starts again from the database
	wait.For(t, 5*time.Second, "Redis to be used again", func() bool {
		return strings.Contains(logs.String(), "Redis reachable again") && redisFloat(t, other, name) > 0
	})
	if v := redisFloat(t, other, name); v < 0.4-1e-9 || v > 0.8+1e-9 {
		t.Fatalf("Redis counter %v after the outage, want the 0.4 spent (counted twice at most)", v)
	}
	if err := other.IncrByFloat(ctx, name, 0.7).Err(); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 2*time.Second, "the other replica's spend to count again", func() bool { return e.OverBudget(now()) != "" })
	if strings.Count(logs.String(), "Redis unreachable") != 1 {
		t.Errorf("the outage was logged %d times, want once", strings.Count(logs.String(), "Redis unreachable"))
	}
}

// TestRedisSpendPeriod: a budget period's counter is its own key; at
// the period's end the spend counts as zero at once (as on the
// database path), and once the database's reset is seen new spend goes
// to the new period's counter, the old one untouched.
func TestRedisSpendPeriod(t *testing.T) {
	srv := testredis.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	end := time.Now().Add(1500 * time.Millisecond).UnixMilli()
	c, e, ns, _ := redisCache(t, rdb, "30s", end)
	name := func(p int64) string {
		return "{llmedge}:spend:" + ns + ":k:" + Hash("sk-test-abcd") + ":" + strconv.FormatInt(p, 10)
	}
	now := func() int64 { return time.Now().UnixMilli() }
	c.AddSpend(e, &Usage{RequestID: []byte("r1"), Model: "m", Cost: 0.3, Start: time.Now(), End: time.Now()})
	wait.For(t, 2*time.Second, "the spend to reach Redis", func() bool { return near(redisFloat(t, rdb, name(end)), 0.3) })
	if err := rdb.IncrByFloat(context.Background(), name(end), 1).Err(); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 2*time.Second, "the other replica's spend to count", func() bool { return e.OverBudget(now()) != "" })
	if time.Now().UnixMilli() >= end {
		t.Skip("too slow: the period ended before the test could check it")
	}
	wait.For(t, 3*time.Second, "the period to end", func() bool { return e.OverBudget(now()) == "" })
	var next int64
	wait.For(t, 3*time.Second, "the database's reset", func() bool {
		next = e.key.resetAt.Load()
		return next > end
	})
	c.AddSpend(e, &Usage{RequestID: []byte("r2"), Model: "m", Cost: 0.1, Start: time.Now(), End: time.Now()})
	wait.For(t, 2*time.Second, "the new period's counter", func() bool {
		v := redisFloat(t, rdb, name(next))
		return v > 0.1-1e-9 && v < 0.2+1e-9
	})
	if v := redisFloat(t, rdb, name(end)); !near(v, 1.3) {
		t.Fatalf("old period's counter %v, want 1.3", v)
	}
	if s := e.KeySpend(now()); s < 0.1-1e-9 || s > 0.2+1e-9 {
		t.Fatalf("spend %v in the new period, want 0.1", s)
	}
}
