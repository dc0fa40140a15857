package server

import (
	"encoding/json"
	"strings"
	"testing"
)

// /health listed every deployment (ids, providers, why each is down) to
// any key. Only the master key gets that detail; a key limited to some
// models sees only those models' deployments, by name and status.
func TestHealthDetailIsForTheMasterKey(t *testing.T) {
	down := dep(2, "secret-model", "openai/secret-upstream", "http://127.0.0.1:1/v1", "")
	down.MissingEnv = []string{"SECRET_PROVIDER_KEY"}
	const teamKey = "sk-team-a-0123456789"
	cfg := limitsConfig(map[string]any{"api_keys": []any{
		map[string]any{"key": teamKey, "name": "team-a", "models": []any{"demo"}},
	}}, dep(0, "demo", "mock/demo", "", ""), dep(1, "other", "mock/other", "", ""), down)
	gw := startGateway(t, cfg)

	if r := rawRequest(t, gw, "GET", "/health", ""); r.StatusCode != 401 {
		t.Errorf("/health without a key: %d", r.StatusCode)
	}
	if r := rawRequest(t, gw, "GET", "/health", "", "Authorization: Bearer sk-wrong"); r.StatusCode != 401 {
		t.Errorf("/health with a wrong key: %d", r.StatusCode)
	}
	type health struct {
		Healthy   []map[string]any `json:"healthy_endpoints"`
		Unhealthy []map[string]any `json:"unhealthy_endpoints"`
		NH        int              `json:"healthy_count"`
		NU        int              `json:"unhealthy_count"`
	}
	get := func(key string) (health, string) {
		t.Helper()
		r := rawRequest(t, gw, "GET", "/health", "", "Authorization: Bearer "+key)
		var h health
		if r.StatusCode != 200 {
			t.Fatalf("/health: %d %s", r.StatusCode, r.Body)
		}
		if err := json.Unmarshal([]byte(r.Body), &h); err != nil {
			t.Fatalf("/health: %v: %s", err, r.Body)
		}
		return h, r.Body
	}
	h, body := get(testMasterKey)
	if h.NH != 2 || h.NU != 1 || h.Unhealthy[0]["model_id"] != "secret-model-2" || h.Unhealthy[0]["error"] == nil {
		t.Errorf("master key: %s", body)
	}
	h, body = get(teamKey)
	if h.NH != 1 || h.NU != 0 || len(h.Healthy) != 1 || h.Healthy[0]["model"] != "demo" {
		t.Errorf("team key sees more than its model: %s", body)
	}
	for _, leak := range []string{"secret", "other", "model_id", "provider", "mock", "in_flight"} {
		if strings.Contains(body, leak) {
			t.Errorf("team key's /health contains %q: %s", leak, body)
		}
	}
}
