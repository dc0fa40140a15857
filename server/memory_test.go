package server

import (
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

func memoryMappings() config.UserIDMappings {
	return config.UserIDMappings{
		CustomHeader: "x-memory-user-id",
		HeaderPatterns: []config.HeaderPattern{
			{Header: "user-agent", Pattern: "^OpenAIClientImpl/Java", UserID: "pycharm-ai"},
			{Header: "user-agent", Pattern: "^Claude Code", UserID: "claude-code-cli"},
			{Header: "x-client", Pattern: "cursor", UserID: "cursor-user"},
		},
		DefaultUserID: "default-dev",
	}
}

func TestMemoryRoutingUserIDs(t *testing.T) {
	oa := newFakeOpenAI(t)
	an := newFakeOpenAI(t)
	an.setHandler(anthropicJSON(`[{"type":"text","text":"ok"}]`, "end_turn", 1, 1, 0, 0))
	cfg := testConfig(dep(0, "gpt", "openai/gpt-4o", oa.base(), "k"), anthropicDep(1, "claude", an))
	cfg.UserIDMappings = memoryMappings()
	gw := startGateway(t, cfg)
	cases := []struct {
		headers []string
		want    string
	}{
		{[]string{"User-Agent: OpenAIClientImpl/Java unknown"}, "pycharm-ai"},
		{[]string{"User-Agent: claude code/1.0.3 (external, cli)"}, "claude-code-cli"}, // case-insensitive
		{[]string{"X-Client: my-CURSOR-build"}, "cursor-user"},                         // unanchored search
		{[]string{"User-Agent: curl/8"}, "default-dev"},
		{[]string{"X-Memory-User-Id: alice@example.com", "User-Agent: Claude Code"}, "alice@example.com"},
	}
	for _, model := range []string{"gpt", "claude"} {
		up := oa
		if model == "claude" {
			up = an
		}
		for _, c := range cases {
			n := len(up.requests())
			h := append([]string{"Authorization: Bearer " + testMasterKey}, c.headers...)
			r := rawRequest(t, gw, "POST", "/v1/chat/completions", `{"model":"`+model+`","messages":[{"role":"user","content":"x"}]}`, h...)
			if r.StatusCode != 200 {
				t.Fatalf("%s %v: %d %s", model, c.headers, r.StatusCode, r.Body)
			}
			if got := up.requests()[n].Header.Get("X-Sm-User-Id"); got != c.want {
				t.Errorf("%s %v: x-sm-user-id = %q, want %q", model, c.headers, got, c.want)
			}
		}
	}
}

func TestMemoryRoutingInfo(t *testing.T) {
	cfg := testConfig()
	cfg.UserIDMappings = memoryMappings()
	gw := startGateway(t, cfg)
	get := func(headers ...string) map[string]any {
		r := rawRequest(t, gw, "GET", "/memory-routing/info", "", append([]string{"Authorization: Bearer " + testMasterKey}, headers...)...)
		if r.StatusCode != 200 {
			t.Fatalf("%d %s", r.StatusCode, r.Body)
		}
		if strings.Contains(r.Body, testMasterKey) {
			t.Fatal("info echoes the master key")
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := get("User-Agent: Claude Code/2")
	if m["user_id"] != "claude-code-cli" || m["matched_pattern"] != "^Claude Code" || m["custom_header_present"] != false || m["is_default"] != false {
		t.Errorf("pattern: %v", m)
	}
	m = get("X-Memory-User-Id: bob")
	if m["user_id"] != "bob" || m["matched_pattern"] != nil || m["custom_header_present"] != true || m["is_default"] != false {
		t.Errorf("custom: %v", m)
	}
	m = get()
	if m["user_id"] != "default-dev" || m["is_default"] != true {
		t.Errorf("default: %v", m)
	}
	if r := rawRequest(t, gw, "GET", "/memory-routing/info", ""); r.StatusCode != 401 {
		t.Errorf("unauthenticated info: %d", r.StatusCode)
	}
}

func TestMemoryRoutingDefaultsWithoutSection(t *testing.T) {
	up := newFakeOpenAI(t)
	gw := startGateway(t, testConfig(dep(0, "gpt", "openai/gpt-4o", up.base(), "k")))
	rawRequest(t, gw, "POST", "/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":"hi"}]}`, "Authorization: Bearer "+testMasterKey, "x-memory-user-id: carol")
	rawRequest(t, gw, "POST", "/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":"hi"}]}`, "Authorization: Bearer "+testMasterKey)
	reqs := up.requests()
	if reqs[0].Header.Get("X-Sm-User-Id") != "carol" || reqs[1].Header.Get("X-Sm-User-Id") != "default-dev" {
		t.Errorf("defaults: %q %q", reqs[0].Header.Get("X-Sm-User-Id"), reqs[1].Header.Get("X-Sm-User-Id"))
	}
}

// Supermemory's proxy (api_base on api.supermemory.ai) gets the
// supermemory key from SUPERMEMORY_API_KEY unless extra_headers set it.
// The dialer sends the supermemory host to the fake.
func TestSupermemoryKeyAndURL(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(anthropicJSON(`[{"type":"text","text":"ok"}]`, "end_turn", 1, 1, 0, 0))
	dial := func(string) (net.Conn, error) { return net.Dial("tcp", up.ln.Addr().String()) }
	env := func(k string) (string, bool) {
		if k == "SUPERMEMORY_API_KEY" {
			return "sm-env-key", true
		}
		return "", false
	}
	d0 := dep(0, "claude", "anthropic/claude-sonnet-4-5", "http://api.supermemory.ai/v3/api.anthropic.com", anthropicTestKey)
	d1 := dep(1, "claude-x", "anthropic/claude-sonnet-4-5", "http://api.supermemory.ai/v3/api.anthropic.com/v1", anthropicTestKey)
	d1.ExtraHeaders = []config.Header{{Name: "x-supermemory-api-key", Value: "sm-config-key"}}
	cfg := testConfig(d0, d1)
	gw := startGatewayWith(t, cfg, upstream.Options{LookupEnv: env, Pool: upstream.PoolSettings{Dial: dial}})
	for _, m := range []string{"claude", "claude-x"} {
		if r := rawPost(t, gw, "/v1/chat/completions", `{"model":"`+m+`","messages":[{"role":"user","content":"x"}]}`, testMasterKey); r.StatusCode != 200 {
			t.Fatalf("%s: %d %s", m, r.StatusCode, r.Body)
		}
	}
	reqs := up.requests()
	for i, want := range []string{"sm-env-key", "sm-config-key"} {
		if reqs[i].Path != "/v3/api.anthropic.com/v1/messages" {
			t.Errorf("path = %q", reqs[i].Path)
		}
		if got := reqs[i].Header.Get("X-Supermemory-Api-Key"); got != want {
			t.Errorf("deployment %d: x-supermemory-api-key = %q, want %q", i, got, want)
		}
		if reqs[i].Header.Get("X-Sm-User-Id") != "default-dev" {
			t.Errorf("no x-sm-user-id")
		}
	}
}

func BenchmarkMemoryResolve(b *testing.B) {
	m := newMemoryRouter(memoryMappings(), nil)
	var h fasthttp.RequestHeader
	h.Set("User-Agent", "Claude Code/1.0.0 (external, cli)")
	h.Set("Content-Type", "application/json")
	b.ReportAllocs()
	for b.Loop() {
		if id, _ := m.resolve(&h); string(id) != "claude-code-cli" {
			b.Fatal(string(id))
		}
	}
}

func TestMemoryResolveAllocatesNothing(t *testing.T) {
	m := newMemoryRouter(memoryMappings(), nil)
	for _, ua := range []string{"Claude Code/1.0", "OpenAIClientImpl/Java", "curl/8"} {
		var h fasthttp.RequestHeader
		h.Set("User-Agent", ua)
		h.Set("X-Client", "nothing")
		if n := testing.AllocsPerRun(200, func() { m.resolve(&h) }); n != 0 {
			t.Errorf("%s: %v allocs per resolve", ua, n)
		}
	}
}
