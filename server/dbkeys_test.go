package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/keys"
	"github.com/llmedge/llmedge/keys/keystest"
	"github.com/llmedge/llmedge/upstream"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// Each fake answer has 5 prompt and 6 completion tokens: at 0.01 USD a
// token, every answer costs 0.11.
const answerCost = 0.11

func pricedConfig(base string) *config.Config {
	d := dep(0, "m", "openai/up", base, "sk-up")
	d.ModelInfo = map[string]any{"input_cost_per_token": 0.01, "output_cost_per_token": 0.01}
	d2 := dep(1, "other", "openai/up2", base, "sk-up")
	return testConfig(d, d2)
}

func openCache(t *testing.T, url string) *keys.Cache {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := keys.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := keys.NewCache(ctx, st, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	return kc
}

func closeCache(t *testing.T, kc *keys.Cache) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := kc.Close(ctx); err != nil {
		t.Errorf("close: %v", err)
	}
	_ = kc.Store().Close()
}

func startKeyGateway(t *testing.T, cfg *config.Config, kc *keys.Cache) *gateway {
	t.Helper()
	reg, err := upstream.NewRegistry(cfg, upstream.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	srv := New(cfg, reg, Options{Keys: kc})
	base := serveOnLoopback(t, srv)
	return &gateway{srv: srv, reg: reg, addr: base[len("http://"):]}
}

// admin calls a management route with the master key.
func admin(t *testing.T, g *gateway, method, path string, body any) (int, map[string]any) {
	t.Helper()
	return adminAs(t, g, testMasterKey, method, path, body)
}

// adminAs calls a management route with the master key master.
func adminAs(t *testing.T, g *gateway, master, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, g.url()+path, rd)
	req.Header.Set("Authorization", "Bearer "+master)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// chatStatus sends one chat request with key and returns the status,
// the error type and x-litellm-key-spend.
func chatStatus(t *testing.T, g *gateway, key, model string) (int, string, string) {
	t.Helper()
	var hdr *http.Response
	c := openai.NewClient(option.WithBaseURL(g.url()+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0),
		option.WithRequestTimeout(10*time.Second))
	p := userMsg("hi")
	p.Model = model
	_, err := c.Chat.Completions.New(context.Background(), p, option.WithResponseInto(&hdr))
	if err != nil {
		var ae *openai.Error
		if e, ok := err.(*openai.Error); ok {
			ae = e
			return ae.StatusCode, ae.Type, ""
		}
		t.Fatalf("chat: %v", err)
	}
	return hdr.StatusCode, "", hdr.Header.Get("X-Litellm-Key-Spend")
}

// TestVirtualKeyLifecycle: on both engines, a key generated through the
// management API authenticates beside the master key, is held to its
// models, pays for each answer, is refused with budget_exceeded (400,
// no upstream call) once over budget, is let through again when its
// budget is raised, is blocked and unblocked, and is refused once
// deleted; a restart keeps key and spend.
func TestVirtualKeyLifecycle(t *testing.T) {
	for _, engine := range keystest.Engines {
		t.Run(engine, func(t *testing.T) {
			up := newFakeOpenAI(t)
			url := keystest.URL(t, engine)
			kc := openCache(t, url)
			g := startKeyGateway(t, pricedConfig(up.base()), kc)

			st, out := admin(t, g, "POST", "/key/generate", map[string]any{"models": []string{"m"}, "max_budget": 0.2, "key_alias": "ci", "metadata": map[string]any{"team": "x"}})
			if st != 200 {
				t.Fatalf("generate: %d %v", st, out)
			}
			key, _ := out["key"].(string)
			if len(key) < 20 || key[:3] != "sk-" || out["token"] == key {
				t.Fatalf("generate answer %v", out)
			}
			if st, typ, spend := chatStatus(t, g, key, "m"); st != 200 || spend != "0" {
				t.Fatalf("first call: %d %s spend header %q", st, typ, spend)
			}
			if st, _, _ := chatStatus(t, g, key, "other"); st != 403 {
				t.Fatalf("model outside the key's list: %d, want 403", st)
			}
			if st, _, spend := chatStatus(t, g, key, "m"); st != 200 || spend != "0.11" {
				t.Fatalf("second call: %d spend header %q, want 0.11", st, spend)
			}
			calls := len(up.requests())
			if st, typ, _ := chatStatus(t, g, key, "m"); st != 400 || typ != "budget_exceeded" {
				t.Fatalf("over budget: %d %q, want 400 budget_exceeded", st, typ)
			}
			if len(up.requests()) != calls {
				t.Fatal("a request over budget reached the upstream")
			}
			_, info := admin(t, g, "GET", "/key/info?key="+key, nil)
			if sp := info["info"].(map[string]any)["spend"].(float64); sp < 2*answerCost-1e-9 {
				t.Fatalf("key/info spend %v", sp)
			}
			if st, out := admin(t, g, "POST", "/key/update", map[string]any{"key": key, "max_budget": 10}); st != 200 || out["key_alias"] != "ci" {
				t.Fatalf("update: %d %v (alias must be kept)", st, out)
			}
			if st, _, _ := chatStatus(t, g, key, "m"); st != 200 {
				t.Fatalf("after raising the budget: %d", st)
			}
			admin(t, g, "POST", "/key/block", map[string]any{"key": key})
			if st, _, _ := chatStatus(t, g, key, "m"); st != 401 {
				t.Fatalf("blocked: %d", st)
			}
			admin(t, g, "POST", "/key/unblock", map[string]any{"key": key})
			if st, _, _ := chatStatus(t, g, key, "m"); st != 200 {
				t.Fatalf("unblocked: %d", st)
			}
			if st, _ := admin(t, g, "POST", "/key/generate", map[string]any{"max_budget": -1}); st != 400 {
				t.Fatalf("negative budget: %d", st)
			}
			if st, out := admin(t, g, "POST", "/key/generate", map[string]any{"budget_duration": "1y"}); st != 400 || out["error"].(map[string]any)["param"] != "budget_duration" {
				t.Fatalf("bad budget_duration: %d %v", st, out)
			}
			_, list := admin(t, g, "GET", "/key/list", nil)
			if list["total_count"].(float64) != 1 {
				t.Fatalf("key/list %v", list)
			}

			// Restart: a new cache on the same database keeps key and spend.
			closeCache(t, kc)
			kc2 := openCache(t, url)
			t.Cleanup(func() { closeCache(t, kc2) })
			g2 := startKeyGateway(t, pricedConfig(up.base()), kc2)
			if st, _, spend := chatStatus(t, g2, key, "m"); st != 200 || spend != "0.44" {
				t.Fatalf("after restart: %d spend %q, want 0.44 (four answers before)", st, spend)
			}
			logs, err := kc2.Store().SpendLogs(context.Background(), keys.SpendFilter{APIKey: keys.Hash(key)})
			if err != nil || len(logs) < 4 {
				t.Fatalf("spend logs %d %v", len(logs), err)
			}

			if st, _ := admin(t, g2, "POST", "/key/delete", map[string]any{"keys": []string{key}}); st != 200 {
				t.Fatalf("delete: %d", st)
			}
			if st, _, _ := chatStatus(t, g2, key, "m"); st != 401 {
				t.Fatalf("deleted key: %d", st)
			}
			if st, _, _ := chatStatus(t, g2, testMasterKey, "m"); st != 200 {
				t.Fatalf("master key: %d", st)
			}
		})
	}
}

// TestKeyExpiryBudgetResetAndTeams: an expiring key stops working; a
// budget with a budget_duration resets; a team's budget binds its keys.
func TestKeyExpiryBudgetResetAndTeams(t *testing.T) {
	up := newFakeOpenAI(t)
	kc := openCache(t, keystest.URL(t, "sqlite"))
	t.Cleanup(func() { closeCache(t, kc) })
	g := startKeyGateway(t, pricedConfig(up.base()), kc)

	_, out := admin(t, g, "POST", "/key/generate", map[string]any{"duration": "2s"})
	exp := out["key"].(string)
	if st, _, _ := chatStatus(t, g, exp, "m"); st != 200 {
		t.Fatalf("fresh key: %d", st)
	}
	waitFor(t, 10*time.Second, "the key to expire", func() bool { st, _, _ := chatStatus(t, g, exp, "m"); return st == 401 })

	_, out = admin(t, g, "POST", "/key/generate", map[string]any{"max_budget": 0.1, "budget_duration": "2s"})
	rk := out["key"].(string)
	chatStatus(t, g, rk, "m")
	if st, typ, _ := chatStatus(t, g, rk, "m"); st != 400 || typ != "budget_exceeded" {
		t.Fatalf("over budget: %d %s", st, typ)
	}
	waitFor(t, 10*time.Second, "the budget to reset", func() bool { st, _, _ := chatStatus(t, g, rk, "m"); return st == 200 })

	if st, out := admin(t, g, "POST", "/team/new", map[string]any{"team_id": "t1", "max_budget": 0.1}); st != 200 {
		t.Fatalf("team/new %d %v", st, out)
	}
	if st, _ := admin(t, g, "POST", "/team/member_add", map[string]any{"team_id": "t1", "member": map[string]any{"user_id": "u1", "role": "user"}}); st != 200 {
		t.Fatalf("member_add %d", st)
	}
	_, a := admin(t, g, "POST", "/key/generate", map[string]any{"team_id": "t1"})
	_, b := admin(t, g, "POST", "/key/generate", map[string]any{"team_id": "t1"})
	chatStatus(t, g, a["key"].(string), "m")
	st, typ, _ := chatStatus(t, g, b["key"].(string), "m")
	if st != 400 || typ != "budget_exceeded" {
		t.Fatalf("second key of a team over budget: %d %s", st, typ)
	}
	_, ti := admin(t, g, "GET", "/team/info?team_id=t1", nil)
	if len(ti["keys"].([]any)) != 2 {
		t.Fatalf("team/info %v", ti)
	}
	if st, _ := admin(t, g, "POST", "/user/new", map[string]any{"user_id": "u1", "max_budget": 5}); st != 200 {
		t.Fatalf("user/new %d", st)
	}
	_, ui := admin(t, g, "GET", "/user/info?user_id=u1", nil)
	if len(ui["keys"].([]any)) != 1 || len(ui["teams"].([]any)) != 1 {
		t.Fatalf("user/info %v", ui)
	}
	// Only the master key manages keys.
	req, _ := http.NewRequest("GET", g.url()+"/key/list", nil)
	req.Header.Set("Authorization", "Bearer "+a["key"].(string))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 401 {
		t.Fatalf("key/list with a virtual key: %v %v", resp, err)
	}
	resp.Body.Close()
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestTwoGatewaysOneDatabase: two gateways on one database see a key
// made on the other within a second, and one budget holds across both.
func TestTwoGatewaysOneDatabase(t *testing.T) {
	for _, engine := range keystest.Engines {
		t.Run(engine, func(t *testing.T) {
			up := newFakeOpenAI(t)
			url := keystest.URL(t, engine)
			ka, kb := openCache(t, url), openCache(t, url)
			t.Cleanup(func() { closeCache(t, ka); closeCache(t, kb) })
			a := startKeyGateway(t, pricedConfig(up.base()), ka)
			b := startKeyGateway(t, pricedConfig(up.base()), kb)
			_, out := admin(t, a, "POST", "/key/generate", map[string]any{"max_budget": 0.3})
			key := out["key"].(string)
			start := time.Now()
			waitFor(t, 3*time.Second, "gateway b to see a's key", func() bool { st, _, _ := chatStatus(t, b, key, "m"); return st == 200 })
			if d := time.Since(start); d > 1500*time.Millisecond {
				t.Errorf("b saw the key after %v", d)
			}
			chatStatus(t, a, key, "m")
			chatStatus(t, b, key, "m") // 0.33 spent across the two
			waitFor(t, 3*time.Second, "both gateways to refuse the key over its budget", func() bool {
				sa, ta, _ := chatStatus(t, a, key, "m")
				sb, tb, _ := chatStatus(t, b, key, "m")
				return sa == 400 && sb == 400 && ta == "budget_exceeded" && tb == "budget_exceeded"
			})
			// Deleting on b reaches a.
			admin(t, b, "POST", "/key/delete", map[string]any{"keys": []string{key}})
			waitFor(t, 3*time.Second, "a to see the delete", func() bool { st, _, _ := chatStatus(t, a, key, "m"); return st == 401 })
		})
	}
}
