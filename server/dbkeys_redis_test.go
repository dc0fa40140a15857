package server

import (
	"context"
	"crypto/sha256"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/keys"
)

// TestRedisBudgetAcrossGateways: two gateways, each on its own SQLite
// database (so the database path could never carry one's spend to the
// other), share the limits' Redis. A key made on both with the same
// value and budget is refused by the gateway that did not spend it
// within the documented bound (keys.RedisRefresh plus a round trip),
// well inside one database round (keys.PollInterval); each database
// still receives its gateway's spend.
func TestRedisBudgetAcrossGateways(t *testing.T) {
	host, port := testRedis(t)
	up := newFakeOpenAI(t)
	master := randomKey(t) // a namespace of our own in the shared Redis
	cfg := func() *config.Config {
		c := pricedConfig(up.base())
		c.General.MasterKey = master
		setSettings(c, "router_settings", map[string]any{"redis_host": host, "redis_port": port})
		return c
	}
	ka := openCache(t, "sqlite:///"+filepath.Join(t.TempDir(), "a.db"))
	kb := openCache(t, "sqlite:///"+filepath.Join(t.TempDir(), "b.db"))
	t.Cleanup(func() { closeCache(t, ka); closeCache(t, kb) })
	a, b := startKeyGateway(t, cfg(), ka), startKeyGateway(t, cfg(), kb)
	if a.srv.current().edge.gate.Redis() == nil {
		t.Fatal("the gateway does not use Redis")
	}
	key := randomKey(t)
	team := "team-" + key[len(key)-8:]
	for _, g := range []*gateway{a, b} {
		if st, out := adminAs(t, g, master, "POST", "/team/new", map[string]any{"team_id": team, "max_budget": 0.5}); st != 200 {
			t.Fatalf("team/new: %d %v", st, out)
		}
		if st, out := adminAs(t, g, master, "POST", "/key/generate", map[string]any{"key": key, "max_budget": 0.3, "team_id": team}); st != 200 {
			t.Fatalf("key/generate: %d %v", st, out)
		}
	}
	// a spends 0.22 of the key's 0.3.
	for i := 0; i < 2; i++ {
		if st, typ, _ := chatStatus(t, a, key, "m"); st != 200 {
			t.Fatalf("a: %d %s", st, typ)
		}
	}
	// b learns it from Redis (it never reads a's database).
	eb := kb.Lookup(digest(key))
	if eb == nil {
		t.Fatal("b has no entry for the key")
	}
	waitFor(t, 2*time.Second, "b to see a's spend", func() bool {
		return eb.KeySpend(time.Now().UnixMilli()) > 0.22-1e-9
	})
	if st, _, spend := chatStatus(t, b, key, "m"); st != 200 || !strings.HasPrefix(spend, "0.22") {
		t.Fatalf("b: %d, spend %q, want 200 with 0.22", st, spend)
	}
	// That request took the key to 0.33: a must refuse it well within a
	// database round.
	start, aOK := time.Now(), 2
	waitFor(t, 2*time.Second, "a to refuse the key b took over budget", func() bool {
		st, typ, _ := chatStatus(t, a, key, "m")
		if st == 200 {
			aOK++ // admitted before b's spend reached a: the documented bound
		}
		return st == 400 && typ == "budget_exceeded"
	})
	if d := time.Since(start); d >= keys.PollInterval {
		t.Errorf("a refused the key %v after b's spend: not faster than a database round (%v)", d, keys.PollInterval)
	}
	if st, typ, _ := chatStatus(t, b, key, "m"); st != 400 || typ != "budget_exceeded" {
		t.Fatalf("b: %d %s, want budget_exceeded", st, typ)
	}
	if aOK > 3 {
		t.Errorf("a admitted %d requests after b's spend, want at most one (in flight when b's spend arrived)", aOK-2)
	}
	// Each database has its gateway's share (/key/info shows the total).
	for _, c := range []struct {
		kc   *keys.Cache
		want float64
	}{{ka, float64(aOK) * answerCost}, {kb, answerCost}} {
		waitFor(t, 3*time.Second, "the database to receive the spend", func() bool {
			return storedSpend(t, c.kc, keys.Hash(key)) > c.want-1e-9 && storedSpend(t, c.kc, keys.Hash(key)) < c.want+1e-9
		})
	}
	_, out := adminAs(t, b, master, "GET", "/key/info?key="+key, nil)
	if info, _ := out["info"].(map[string]any); math.Abs(info["spend"].(float64)-float64(aOK+1)*answerCost) > 1e-9 {
		t.Errorf("b's /key/info spend %v, want both gateways' %v", info["spend"], float64(aOK+1)*answerCost)
	}
	// A team's budget counts both gateways too: a key of a second team
	// (budget 0.2), spent on a, is refused on b.
	key2, team2 := randomKey(t), team+"-2"
	for _, g := range []*gateway{a, b} {
		if st, out := adminAs(t, g, master, "POST", "/team/new", map[string]any{"team_id": team2, "max_budget": 0.2}); st != 200 {
			t.Fatalf("team/new: %d %v", st, out)
		}
		if st, out := adminAs(t, g, master, "POST", "/key/generate", map[string]any{"key": key2, "team_id": team2}); st != 200 {
			t.Fatalf("key/generate: %d %v", st, out)
		}
	}
	for i := 0; i < 2; i++ { // 0.22
		if st, typ, _ := chatStatus(t, a, key2, "m"); st != 200 {
			t.Fatalf("a key2: %d %s", st, typ)
		}
	}
	start = time.Now()
	waitFor(t, 2*time.Second, "b to refuse the team over budget", func() bool {
		st, typ, _ := chatStatus(t, b, key2, "m")
		return st == 400 && typ == "budget_exceeded"
	})
	if d := time.Since(start); d >= keys.PollInterval {
		t.Errorf("b refused the team %v after a's spend: not faster than a database round", d)
	}
}

// digest is a key value's SHA-256, as the keys cache looks it up.
func digest(key string) *[sha256.Size]byte {
	d := sha256.Sum256([]byte(key))
	return &d
}

// storedSpend is a key's spend as its database holds it.
func storedSpend(t *testing.T, kc *keys.Cache, token string) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rows, err := kc.Store().Spends(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Kind == keys.KindKey && r.ID == token {
			return r.Spend
		}
	}
	return -1
}
