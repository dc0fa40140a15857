package server

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/keys/keystest"
)

// TestKeySpendIsTheResponseCost: a database key pays exactly what the
// answer's x-llmedge-response-cost says, priced by upstream/pricing's
// built-in table (no model_info price) with cached prompt tokens at
// their own price: the budget, x-litellm-key-spend and the cost header
// read one number.
func TestKeySpendIsTheResponseCost(t *testing.T) {
	up := &pricedUpstream{}
	kc := openCache(t, keystest.URL(t, "sqlite"))
	t.Cleanup(func() { closeCache(t, kc) })
	g := startKeyGateway(t, testConfig(dep(0, "gpt-4o", "openai/gpt-4o", up.start(t), "sk-up")), kc)
	_, out := admin(t, g, "POST", "/key/generate", map[string]any{"max_budget": 1})
	key, _ := out["key"].(string)

	call := func() *http.Response {
		t.Helper()
		req, _ := http.NewRequest("POST", g.url()+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		return resp
	}
	header := func(r *http.Response, name string) float64 {
		t.Helper()
		v, err := strconv.ParseFloat(r.Header.Get(name), 64)
		if err != nil {
			t.Fatalf("%s: %q", name, r.Header.Get(name))
		}
		return v
	}
	first := call()
	if cost := header(first, "X-Llmedge-Response-Cost"); math.Abs(cost-wantCost) > 1e-12 {
		t.Fatalf("response cost %v, want %v (cached tokens at the cache price)", cost, wantCost)
	}
	if spend := header(call(), "X-Litellm-Key-Spend"); math.Abs(spend-wantCost) > 1e-12 {
		t.Fatalf("key spend after one answer %v, want its response cost %v", spend, wantCost)
	}
}
