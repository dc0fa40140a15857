package server

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/keys"
	"github.com/valyala/fasthttp"
)

// BenchmarkKeyKinds is one non-stream request with a config key
// (api_keys) and with a database key, same server, same run: the
// difference is what a database key costs per request (the digest map
// read, the budget check, x-litellm-key-spend and the spend added and
// logged in memory).
func BenchmarkKeyKinds(b *testing.B) {
	const cfgKey, dbKey = "sk-config-key-0001", "sk-database-key-0001"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := keys.Open(ctx, "sqlite:///"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	budget := 1e12
	data, _ := json.Marshal(keys.Key{KeyName: "sk-...0001", Account: keys.Account{Limits: keys.Limits{MaxBudget: &budget}}})
	if err := st.Put(ctx, keys.Row{Kind: keys.KindKey, ID: keys.Hash(dbKey), Data: data}, true); err != nil {
		b.Fatal(err)
	}
	kc, err := keys.NewCache(ctx, st, discardLog())
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = kc.Close(context.Background()); _ = st.Close() }()
	stack := newInMemoryStackOpts(b, 0, Options{Keys: kc}, func(c *config.Config) {
		c.Deployments[0].ModelInfo = map[string]any{"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}
		c.General.APIKeys = []config.APIKey{{Key: cfgKey, Name: "cfg"}}
	})
	defer stack.close()
	body := []byte(`{"messages":[{"role":"user","content":"What is the weather in Paris today?"}],"model":"m","temperature":0.2}`)
	for _, k := range []struct{ name, key string }{{"config_key", cfgKey}, {"database_key", dbKey}, {"config_key_again", cfgKey}} {
		b.Run(k.name, func(b *testing.B) {
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			req.SetRequestURI("http://llmedge.local/v1/chat/completions")
			req.Header.SetMethod("POST")
			req.Header.Set("Authorization", "Bearer "+k.key)
			req.SetBody(body)
			b.ReportAllocs()
			for b.Loop() {
				if err := stack.client.Do(req, resp); err != nil {
					b.Fatal(err)
				}
				if resp.StatusCode() != 200 {
					b.Fatalf("status %d: %s", resp.StatusCode(), resp.Body())
				}
			}
		})
	}
}
