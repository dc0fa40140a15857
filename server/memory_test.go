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
		Configured:    true,
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

// An empty user_id_mappings section turns memory routing on with the
// defaults (custom header x-memory-user-id, default user default-dev).
func TestMemoryRoutingDefaultsWithEmptySection(t *testing.T) {
	up := newFakeOpenAI(t)
	cfg := testConfig(dep(0, "gpt", "openai/gpt-4o", up.base(), "k"))
	cfg.UserIDMappings.Configured = true
	gw := startGateway(t, cfg)
	rawRequest(t, gw, "POST", "/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":"hi"}]}`, "Authorization: Bearer "+testMasterKey, "x-memory-user-id: carol")
	rawRequest(t, gw, "POST", "/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":"hi"}]}`, "Authorization: Bearer "+testMasterKey)
	reqs := up.requests()
	if reqs[0].Header.Get("X-Sm-User-Id") != "carol" || reqs[1].Header.Get("X-Sm-User-Id") != "default-dev" {
		t.Errorf("defaults: %q %q", reqs[0].Header.Get("X-Sm-User-Id"), reqs[1].Header.Get("X-Sm-User-Id"))
	}
}

// Without user_id_mappings no user id goes to third parties: OpenAI-
// and Anthropic-shaped upstreams get no x-sm-user-id on any route.
func TestNoMemoryHeaderWithoutMappings(t *testing.T) {
	oa, an := newFakeOpenAI(t), newFakeOpenAI(t)
	an.setHandler(anthropicJSON(`[{"type":"text","text":"ok"}]`, "end_turn", 1, 1, 0, 0))
	gw := startGateway(t, testConfig(dep(0, "gpt", "openai/gpt-4o", oa.base(), "k"), anthropicDep(1, "claude", an)))
	for _, m := range []string{"gpt", "claude"} {
		if r := rawRequest(t, gw, "POST", "/v1/chat/completions", `{"model":"`+m+`","messages":[{"role":"user","content":"hi"}]}`, "Authorization: Bearer "+testMasterKey, "x-memory-user-id: carol"); r.StatusCode != 200 {
			t.Fatalf("%s: %d %s", m, r.StatusCode, r.Body)
		}
	}
	rawRequest(t, gw, "POST", "/v1/embeddings", `{"model":"gpt","input":"x"}`, "Authorization: Bearer "+testMasterKey)
	for _, r := range append(oa.requests(), an.requests()...) {
		if v, ok := r.Header["X-Sm-User-Id"]; ok {
			t.Errorf("%s: x-sm-user-id %q sent without user_id_mappings", r.Path, v)
		}
	}
	if len(oa.requests()) != 2 || len(an.requests()) != 1 {
		t.Fatalf("upstreams saw %d and %d requests", len(oa.requests()), len(an.requests()))
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

// twoKeyConfig: team-a and team-b keys (team-a optionally bound to a
// user), user_rpm_limit 2, an OpenAI and an Anthropic deployment.
func twoKeyConfig(oa, an *fakeOpenAI, boundA string) *config.Config {
	a := map[string]any{"key": "sk-team-a-0123456789", "name": "team-a"}
	if boundA != "" {
		a["user_id"] = boundA
	}
	cfg := limitsConfig(map[string]any{
		"user_rpm_limit": 2,
		"api_keys":       []any{a, map[string]any{"key": "sk-team-b-0123456789", "name": "team-b"}},
	}, dep(0, "gpt", "openai/gpt-4o", oa.base(), "k"), anthropicDep(1, "claude", an))
	cfg.UserIDMappings = memoryMappings()
	return cfg
}

const memBody = `{"model":"gpt","messages":[{"role":"user","content":"x"}]}`

// One key naming x-memory-user-id: alice used to exhaust alice's
// user_rpm_limit for every other key, everyone without the header shared
// default-dev's, and the client-chosen id reached the upstream as
// x-sm-user-id: any key could read or write any user's memories.
func TestUserLimitsAndMemoryNamespaceScopedByKey(t *testing.T) {
	oa, an := newFakeOpenAI(t), newFakeOpenAI(t)
	gw := startGateway(t, twoKeyConfig(oa, an, ""))
	awayFromMinuteEnd()
	post := func(key string, headers ...string) rawResponse {
		return rawRequest(t, gw, "POST", "/v1/chat/completions", memBody, append([]string{"Authorization: Bearer " + key}, headers...)...)
	}
	for _, hdr := range [][]string{{"X-Memory-User-Id: alice"}, nil} {
		for i := 0; i < 2; i++ {
			if r := post("sk-team-a-0123456789", hdr...); r.StatusCode != 200 {
				t.Fatalf("team-a %v #%d: %d %s", hdr, i, r.StatusCode, r.Body)
			}
		}
		if r := post("sk-team-a-0123456789", hdr...); r.StatusCode != 429 {
			t.Fatalf("team-a %v over its user limit: %d", hdr, r.StatusCode)
		}
		n := len(oa.requests())
		if r := post("sk-team-b-0123456789", hdr...); r.StatusCode != 200 {
			t.Fatalf("team-b %v refused because team-a spent the user's limit: %d %s", hdr, r.StatusCode, r.Body)
		}
		want := "team-b:default-dev"
		if hdr != nil {
			want = "team-b:alice"
		}
		if got := oa.requests()[n].Header.Get("X-Sm-User-Id"); got != want {
			t.Fatalf("team-b %v: x-sm-user-id %q, want %q (its own namespace)", hdr, got, want)
		}
	}
	// The master key acts for any user, as named.
	n := len(oa.requests())
	if r := post(testMasterKey, "X-Memory-User-Id: team-b:alice"); r.StatusCode != 200 {
		t.Fatalf("master: %d", r.StatusCode)
	}
	if got := oa.requests()[n].Header.Get("X-Sm-User-Id"); got != "team-b:alice" {
		t.Fatalf("master: x-sm-user-id %q", got)
	}
}

// A key bound to a user (api_keys[].user_id) is that user whatever its
// headers say: a different x-memory-user-id is refused, on both APIs.
func TestBoundUserIDCannotBeOverriddenByHeader(t *testing.T) {
	oa, an := newFakeOpenAI(t), newFakeOpenAI(t)
	an.setHandler(anthropicJSON(`[{"type":"text","text":"ok"}]`, "end_turn", 1, 1, 0, 0))
	gw := startGateway(t, twoKeyConfig(oa, an, "alice"))
	awayFromMinuteEnd()
	const keyA = "sk-team-a-0123456789"
	r := rawRequest(t, gw, "POST", "/v1/chat/completions", memBody, "Authorization: Bearer "+keyA, "X-Memory-User-Id: bob")
	var e struct {
		Error struct{ Message, Type, Code string }
	}
	if r.StatusCode != 403 || json.Unmarshal([]byte(r.Body), &e) != nil || e.Error.Type != "permission_error" || !strings.Contains(e.Error.Message, "x-memory-user-id") {
		t.Fatalf("mismatching header: %d %s", r.StatusCode, r.Body)
	}
	r = rawRequest(t, gw, "POST", "/v1/messages", `{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`, "x-api-key: "+keyA, "X-Memory-User-Id: bob")
	if r.StatusCode != 403 || !strings.Contains(r.Body, `"type":"permission_error"`) || !strings.Contains(r.Body, "x-memory-user-id") {
		t.Fatalf("/v1/messages mismatching header: %d %s", r.StatusCode, r.Body)
	}
	for _, h := range []string{"X-Memory-User-Id: alice", "User-Agent: Claude Code/2"} {
		n := len(oa.requests())
		if r := rawRequest(t, gw, "POST", "/v1/chat/completions", memBody, "Authorization: Bearer "+keyA, h); r.StatusCode != 200 {
			t.Fatalf("%s: %d %s", h, r.StatusCode, r.Body)
		}
		if got := oa.requests()[n].Header.Get("X-Sm-User-Id"); got != "alice" {
			t.Fatalf("%s: x-sm-user-id %q, want the bound user", h, got)
		}
	}
	// alice's two requests are spent; team-b naming alice has its own.
	if r := rawPost(t, gw, "/v1/chat/completions", memBody, keyA); r.StatusCode != 429 {
		t.Fatalf("alice over her user limit: %d", r.StatusCode)
	}
	if r := rawRequest(t, gw, "POST", "/v1/chat/completions", memBody, "Authorization: Bearer sk-team-b-0123456789", "X-Memory-User-Id: alice"); r.StatusCode != 200 {
		t.Fatalf("team-b naming alice: %d", r.StatusCode)
	}
	info := rawRequest(t, gw, "GET", "/memory-routing/info", "", "Authorization: Bearer "+keyA)
	if !strings.Contains(info.Body, `"user_id":"alice"`) {
		t.Fatalf("info for the bound key: %s", info.Body)
	}
}
