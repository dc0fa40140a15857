package server

import (
	"strings"
	"testing"
)

// general_settings.allowed_routes: only the listed routes are served
// (with or without /v1); the probes stay open.
func TestAllowedRoutesEnforced(t *testing.T) {
	up := newFakeOpenAI(t)
	cfg := limitsConfig(map[string]any{"allowed_routes": []any{"/v1/chat/completions", "/v1/models", "/metrics"}}, dep(0, "m", "openai/m", up.base(), "k"))
	gw, _ := startObserved(t, cfg, Options{})
	for path, want := range map[string]int{"/v1/chat/completions": 200, "/chat/completions": 200, "/v1/completions": 403, "/v1/embeddings": 403} {
		r := rawPost(t, gw, path, `{"model":"m","messages":[{"role":"user","content":"x"}],"prompt":"x","input":"x"}`, testMasterKey)
		if r.StatusCode != want {
			t.Errorf("%s: %d, want %d: %s", path, r.StatusCode, want, r.Body)
		}
		if want == 403 && !strings.Contains(r.Body, `"code":"route_not_allowed"`) {
			t.Errorf("%s: body %s", path, r.Body)
		}
	}
	if r := rawRequest(t, gw, "GET", "/health/liveliness", ""); r.StatusCode != 200 {
		t.Errorf("liveliness probe: %d", r.StatusCode)
	}
	wantSeries(t, scrape(t, gw), `llmedge_rejected_requests_total{reason="route_not_allowed"}`, 2)
}

// general_settings.allowed_ips: a client outside the list gets 403; one
// inside (CIDR or address) is served.
func TestAllowedIPsEnforced(t *testing.T) {
	up := newFakeOpenAI(t)
	body := `{"model":"m","messages":[{"role":"user","content":"x"}]}`
	for ips, want := range map[string]int{"10.1.2.3": 403, "127.0.0.0/8": 200, "127.0.0.1": 200} {
		cfg := limitsConfig(map[string]any{"allowed_ips": []any{"192.168.0.0/16", ips}}, dep(0, "m", "openai/m", up.base(), "k"))
		gw := startGateway(t, cfg)
		r := rawPost(t, gw, "/v1/chat/completions", body, testMasterKey)
		if r.StatusCode != want {
			t.Errorf("allowed_ips [192.168.0.0/16, %s]: %d, want %d: %s", ips, r.StatusCode, want, r.Body)
		}
		if want == 403 && !strings.Contains(r.Body, `"code":"ip_not_allowed"`) {
			t.Errorf("body %s", r.Body)
		}
	}
	if err := CheckConfig(limitsConfig(map[string]any{"allowed_ips": []any{"not-an-ip"}})); err == nil || !strings.Contains(err.Error(), "general_settings.allowed_ips[0]") {
		t.Errorf("bad address: %v", err)
	}
}
