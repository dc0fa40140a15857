package server

import (
	"strings"
	"testing"
)

// A key limited to some models learns nothing about the others: every
// route answers auth (401), then the key's model permission (403), and
// only then what the model is (404 unknown, 400 not served by this
// route). /v1/messages answered 400 "not served by an anthropic/
// deployment" and every route 404 for an unknown model before the 403.
func TestModelPermissionComesBeforeModelValidation(t *testing.T) {
	up := newFakeOpenAI(t)
	const teamKey = "sk-team-a-0123456789"
	cfg := limitsConfig(map[string]any{"api_keys": []any{
		map[string]any{"key": teamKey, "name": "team-a", "models": []any{"gpt-4o"}},
	}}, dep(0, "gpt-4o", "openai/gpt-4o", up.base(), "sk-up"), anthropicDep(1, "claude", up), dep(2, "other", "openai/other", up.base(), "sk-up"))
	gw := startGateway(t, cfg)

	for _, tc := range []struct {
		name, path, body string
		want             int
	}{
		{"messages, non-anthropic model", "/v1/messages", `{"model":"other","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, 403},
		{"messages, unknown model", "/v1/messages", `{"model":"secret-model","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, 403},
		{"count_tokens, unknown model", "/v1/messages/count_tokens", `{"model":"secret-model","messages":[{"role":"user","content":"hi"}]}`, 403},
		{"chat, unknown model", "/v1/chat/completions", `{"model":"secret-model","messages":[{"role":"user","content":"hi"}]}`, 403},
		{"embeddings, model not serving the route", "/v1/embeddings", `{"model":"claude","input":"hi"}`, 403},
		{"embeddings, unknown model", "/v1/embeddings", `{"model":"secret-model","input":"hi"}`, 403},
		{"completions, unknown model", "/v1/completions", `{"model":"secret-model","prompt":"hi"}`, 403},
		{"responses, unknown model", "/v1/responses", `{"model":"secret-model","input":"hi"}`, 403},
		// The key's own model is served (translated to chat).
		{"messages, allowed non-anthropic model", "/v1/messages", `{"model":"gpt-4o","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, 200},
	} {
		r := rawPost(t, gw, tc.path, tc.body, teamKey)
		if r.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d: %s", tc.name, r.StatusCode, tc.want, r.Body)
		}
		if tc.want == 403 && strings.Contains(r.Body, "anthropic") {
			t.Errorf("%s: the refusal says what serves the model: %s", tc.name, r.Body)
		}
		// Without a key: 401 whatever the body.
		if r := rawPost(t, gw, tc.path, tc.body, "sk-wrong"); r.StatusCode != 401 {
			t.Errorf("%s without a valid key: status %d", tc.name, r.StatusCode)
		}
	}
	// The master key (every model) still gets the precise answers.
	if r := rawPost(t, gw, "/v1/chat/completions", `{"model":"secret-model","messages":[{"role":"user","content":"hi"}]}`, testMasterKey); r.StatusCode != 404 {
		t.Errorf("master key, unknown model: %d", r.StatusCode)
	}
	if r := rawPost(t, gw, "/v1/messages", `{"model":"other","max_tokens":5,"messages":[]}`, testMasterKey); r.StatusCode != 400 || !strings.Contains(r.Body, "messages") {
		t.Errorf("master key, bad body on /v1/messages: %d %s", r.StatusCode, r.Body)
	}
}
