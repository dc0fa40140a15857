package server

import (
	"testing"

	"github.com/llmedge/llmedge/config"
)

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
