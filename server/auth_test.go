package server

import (
	"fmt"
	"github.com/llmedge/llmedge/config"
	"github.com/valyala/fasthttp"
	"testing"

	"github.com/llmedge/llmedge/internal/allocs"
)

func BenchmarkAuthIdentify(b *testing.B) {
	identify := identifier(b)
	b.ReportAllocs()
	for b.Loop() {
		identify()
	}
}

// identifier identifies the last of 20 keys and checks its model.
func identifier(tb testing.TB) func() {
	keys := make([]keyConf, 20)
	for i := range keys {
		keys[i] = keyConf{key: fmt.Sprintf("sk-team-%02d-xxxxxxxxxxxxxxxx", i), name: fmt.Sprint(i), models: []string{"gpt-4o"}}
	}
	a := newAuthenticatorFrom(testMasterKey, keys)
	var h fasthttp.RequestHeader
	h.Set("Authorization", "Bearer sk-team-19-xxxxxxxxxxxxxxxx")
	return func() {
		k := a.identify(&h)
		if k == nil || !k.allows([]byte("gpt-4o")) {
			tb.Fatal("not identified")
		}
	}
}

func TestAuthIdentifyAllocs(t *testing.T) {
	allocs.None(t, "identifying a key and checking its model", 1000, identifier(t))
}

func TestAuthIdentifiesKeysAndModels(t *testing.T) {
	a := newAuthenticatorFrom("master-key-1", []keyConf{
		{key: "team-a-key-1", name: "team-a", models: []string{"gpt-4o", "openai/*"}},
		{key: "team-b-key-1", name: "team-b", models: []string{}},
	})
	id := func(v string) *apiKey {
		var h fasthttp.RequestHeader
		h.Set("Authorization", "Bearer "+v)
		return a.identify(&h)
	}
	if k := id("master-key-1"); k == nil || k.name != "master" || !k.allows([]byte("anything")) {
		t.Fatal("master")
	}
	k := id("team-a-key-1")
	if k == nil || k.name != "team-a" || !k.allows([]byte("gpt-4o")) || !k.allows([]byte("openai/gpt-5")) || k.allows([]byte("claude")) {
		t.Fatal("team-a")
	}
	if k := id("team-b-key-1"); k == nil || k.allows([]byte("gpt-4o")) {
		t.Fatal("team-b has an empty model list: nothing allowed")
	}
	if id("team-a-key-2") != nil || id("") != nil || id("team-a-key-1 ") == nil {
		t.Fatal("unknown keys must fail (surrounding space is trimmed)")
	}
	if newAuthenticatorFrom("", nil).identify(&fasthttp.RequestHeader{}) == nil {
		t.Fatal("open gateway")
	}
}

func TestDigestEqual(t *testing.T) {
	var a, b keyDigest
	if digestEqual(&a, &b) != 1 {
		t.Fatal("equal digests")
	}
	for i := range b {
		for _, bit := range []byte{1, 0x80} {
			b = a
			b[i] ^= bit
			if digestEqual(&a, &b) != 0 {
				t.Fatalf("differ at byte %d bit %x", i, bit)
			}
		}
	}
}

// An api_keys entry is a client key, not an operator key: it must not
// reload the config or read /metrics when metrics_require_auth is set
// (both documented as needing the master key).
func TestAdminRoutesNeedMasterKey(t *testing.T) {
	const team = "sk-team-a-0123456789"
	cfg := limitsConfig(map[string]any{
		"api_keys":             []any{map[string]any{"key": team, "name": "team-a"}},
		"metrics_require_auth": true,
	}, dep(0, "m", "mock/m", "", ""))
	opts := Options{ObserveOptions: ObserveOptions{LoadConfig: func() (*config.Config, error) { return cfg, nil }}}
	gw, _ := startObserved(t, cfg, opts)

	if r := rawPost(t, gw, "/config/reload", "", team); r.StatusCode != 401 {
		t.Errorf("reload with an api_keys key: %d %s, want 401", r.StatusCode, r.Body)
	}
	if r := rawRequest(t, gw, "GET", "/metrics", "", "Authorization: Bearer "+team); r.StatusCode != 401 {
		t.Errorf("/metrics with an api_keys key: %d, want 401", r.StatusCode)
	}
	if r := rawPost(t, gw, "/config/reload", "", testMasterKey); r.StatusCode != 200 {
		t.Errorf("reload with the master key: %d %s", r.StatusCode, r.Body)
	}
	if r := rawRequest(t, gw, "GET", "/metrics", "", "Authorization: Bearer "+testMasterKey); r.StatusCode != 200 {
		t.Errorf("/metrics with the master key: %d", r.StatusCode)
	}
	// A client key still works on client routes.
	if r := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, team); r.StatusCode != 200 {
		t.Errorf("chat with an api_keys key: %d %s", r.StatusCode, r.Body)
	}
}
