package server

import (
	"strings"
	"testing"

	"github.com/llmedge/llmedge/upstream"
)

// LiteLLM's quick-start catch-all serves any model: the provider is
// inferred from the requested name, credentials come from the
// environment, and /v1/models does not list "*".
func TestCatchAllInfersProvider(t *testing.T) {
	up := newFakeOpenAI(t)
	cfg := parseYAML(t, `
model_list:
  - model_name: "*"
    litellm_params: {model: "*", api_base: `+up.base()+`}
general_settings:
  master_key: `+testMasterKey+`
`)
	env := map[string]string{"OPENAI_API_KEY": "sk-env-openai", "GROQ_API_KEY": "gsk-env-groq"}
	gw := startGatewayWith(t, cfg, upstream.Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	for _, m := range []string{"gpt-4o", "groq/llama-3.3-70b"} {
		if r := rawPost(t, gw, "/v1/chat/completions", `{"model":"`+m+`","messages":[{"role":"user","content":"x"}]}`, testMasterKey); r.StatusCode != 200 {
			t.Fatalf("%s: %d %s", m, r.StatusCode, r.Body)
		}
	}
	reqs := up.requests()
	if len(reqs) != 2 {
		t.Fatalf("upstream saw %d requests", len(reqs))
	}
	for i, want := range []struct{ model, auth string }{{"gpt-4o", "Bearer sk-env-openai"}, {"llama-3.3-70b", "Bearer gsk-env-groq"}} {
		if got := jsonMap(t, reqs[i].Body)["model"]; got != want.model {
			t.Errorf("request %d: upstream model %v, want %s", i, got, want.model)
		}
		if got := reqs[i].Header.Get("Authorization"); got != want.auth {
			t.Errorf("request %d: Authorization %q, want %q", i, got, want.auth)
		}
	}
	r := rawPost(t, gw, "/v1/chat/completions", `{"model":"no-such-model","messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if r.StatusCode != 400 || !strings.Contains(r.Body, "provider/model") {
		t.Errorf("unknown model: %d %s, want 400 asking for provider/model", r.StatusCode, r.Body)
	}
	m := rawRequest(t, gw, "GET", "/v1/models", "", "Authorization: Bearer "+testMasterKey)
	if strings.Contains(m.Body, `"id":"*"`) {
		t.Errorf("/v1/models lists the catch-all: %s", m.Body)
	}
}
