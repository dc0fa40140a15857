package upstream

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
)

// probeUpstream answers each provider's documented probe and call
// formats: OpenAI's and Azure's model lists, Anthropic's model object,
// chat completions and embeddings.
func probeUpstream(t *testing.T) *providertest.Upstream {
	return providertest.NewUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		switch p := r.URL.Path; {
		case r.Method == "GET" && strings.HasPrefix(p, "/anthropic/v1/models/"):
			_, _ = w.Write([]byte(`{"type":"model","id":"claude-sonnet-4-5-20250929","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z"}`))
		case r.Method == "GET" && (p == "/v1/models" || p == "/openai/models" || p == "/openai/v1/models"):
			_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"}]}`))
		case r.Method == "POST" && strings.HasSuffix(p, "/embeddings"):
			_, _ = w.Write([]byte(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"model":"e","usage":{"prompt_tokens":1,"total_tokens":1}}`))
		case r.Method == "POST" && strings.HasSuffix(p, "/completions"):
			providertest.OpenAIAnswer("pong")(w, r, body)
		default:
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"error":{"message":"no such route","type":"invalid_request_error"}}`))
		}
	})
}

// probeRegistry builds the registry of a config written as YAML, with
// an empty environment.
func probeRegistry(t *testing.T, yaml string) *Registry {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry(cfg, Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// Each provider is probed with the cheapest call it has: a GET of its
// models where that proves the base and key (OpenAI-compatible servers,
// Azure, Anthropic), else a call asking for one token to the route
// model_info.mode names; LiteLLM's health_check_* settings apply.
func TestProbeIsTheCheapestCallEachProviderHas(t *testing.T) {
	up := probeUpstream(t)
	base := up.URL()
	reg := probeRegistry(t, `
model_list:
  - model_name: openai
    litellm_params: {model: openai/gpt-4o, api_base: `+base+`/v1, api_key: sk-openai}
  - model_name: azure
    litellm_params: {model: azure/my-gpt4o, api_base: `+base+`, api_key: az-key, api_version: "2024-10-21"}
  - model_name: azure-v1
    litellm_params: {model: azure/my-gpt4o, api_base: `+base+`, api_key: az-key, api_version: v1}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: `+base+`/anthropic, api_key: sk-ant}
  - model_name: wild/*
    litellm_params: {model: openai/*, api_base: `+base+`/v1, api_key: sk-openai}
  - model_name: pplx
    litellm_params: {model: perplexity/sonar, api_base: `+base+`/pplx, api_key: pplx-key}
    model_info: {health_check_max_tokens: 5}
  - model_name: cohere-embed
    litellm_params: {model: cohere/embed-v4.0, api_base: `+base+`/cohere, api_key: co-key}
    model_info: {mode: embedding}
  - model_name: pplx/*
    litellm_params: {model: perplexity/*, api_base: `+base+`/pplx, api_key: pplx-key}
    model_info: {health_check_model: perplexity/sonar-pro}
  - model_name: pplx-nomodel/*
    litellm_params: {model: perplexity/*, api_base: `+base+`/pplx, api_key: pplx-key}
`)
	for _, c := range []struct {
		model, method, uri, header, body string
	}{
		{"openai", "GET", "/v1/models", "Authorization: Bearer sk-openai", ""},
		{"azure", "GET", "/openai/models?api-version=2024-10-21", "Api-Key: az-key", ""},
		{"azure-v1", "GET", "/openai/v1/models", "Api-Key: az-key", ""},
		{"claude", "GET", "/anthropic/v1/models/claude-sonnet-4-5", "X-Api-Key: sk-ant", ""},
		{"wild/*", "GET", "/v1/models", "Authorization: Bearer sk-openai", ""},
		{"pplx", "POST", "/pplx/chat/completions", "Authorization: Bearer pplx-key", `"max_tokens":5`},
		{"cohere-embed", "POST", "/cohere/embeddings", "Authorization: Bearer co-key", `"input":"ping"`},
		{"pplx/*", "POST", "/pplx/chat/completions", "Authorization: Bearer pplx-key", `"model":"sonar-pro"`},
	} {
		before := len(up.Requests())
		d := reg.Lookup([]byte(c.model)).Deployments[0]
		r := reg.Probe(d, 5*time.Second)
		if r.Err != nil {
			t.Errorf("%s: %v (%s)", c.model, r.Err, r.Class)
			continue
		}
		want := ProbeByModels
		if c.method == "POST" {
			want = ProbeByCall
		}
		if r.Method != want || r.Took <= 0 {
			t.Errorf("%s: method %q took %v, want %q", c.model, r.Method, r.Took, want)
		}
		seen := up.Requests()[before:]
		if len(seen) != 1 {
			t.Errorf("%s: %d upstream requests, want 1", c.model, len(seen))
			continue
		}
		s := seen[0]
		hname, hval, _ := strings.Cut(c.header, ": ")
		if got := s.RequestURI; got != c.uri || s.Header.Get(hname) != hval || !strings.Contains(string(s.Body), c.body) {
			t.Errorf("%s: %s %s (%s: %q) body %s; want %s %s", c.model, "?", got, hname, s.Header.Get(hname), s.Body, c.method, c.uri)
		}
		if c.method == "GET" && len(s.Body) != 0 {
			t.Errorf("%s: a GET probe with a body: %s", c.model, s.Body)
		}
		if c.model == "claude" && s.Header.Get("Anthropic-Version") == "" {
			t.Errorf("claude: no anthropic-version")
		}
		if c.model == "pplx" && !strings.Contains(string(s.Body), `"messages"`) {
			t.Errorf("pplx: not a chat call: %s", s.Body)
		}
	}
	// A wildcard whose provider has no models probe and no
	// health_check_model is not probed: nothing sent.
	before := len(up.Requests())
	if r := reg.Probe(reg.Lookup([]byte("pplx-nomodel/*")).Deployments[0], 5*time.Second); r.Err != ErrNotProbed || len(up.Requests()) != before {
		t.Errorf("wildcard without health_check_model: %v, %d requests", r.Err, len(up.Requests())-before)
	}
}

// Failures are classed by a fixed word; health_check_timeout bounds a
// probe.
func TestProbeFailureClasses(t *testing.T) {
	up := probeUpstream(t)
	hang := providertest.NewUpstream(t, providertest.WaitThen(10*time.Second, providertest.Status(200)))
	base := up.URL()
	reg := probeRegistry(t, `
model_list:
  - model_name: wrong-base
    litellm_params: {model: openai/gpt-4o, api_base: `+base+`/nope, api_key: k}
  - model_name: refused
    litellm_params: {model: openai/gpt-4o, api_base: "http://127.0.0.1:1/v1", api_key: k}
  - model_name: slow
    litellm_params: {model: openai/gpt-4o, api_base: `+hang.URL()+`/v1, api_key: k}
    model_info: {health_check_timeout: 0.2}
  - model_name: bad-timeout
    litellm_params: {model: openai/gpt-4o, api_base: `+base+`/v1, api_key: k}
    model_info: {health_check_timeout: soon}
`)
	for model, class := range map[string]string{"wrong-base": ProbeNotFound, "refused": ProbeUnreachable, "slow": ProbeTimeout, "bad-timeout": ProbeUnavailable} {
		start := time.Now()
		r := reg.Probe(reg.Lookup([]byte(model)).Deployments[0], 5*time.Second)
		if r.Err == nil || r.Class != class {
			t.Errorf("%s: %v class %q, want %q", model, r.Err, r.Class, class)
		}
		if model == "slow" && (time.Since(start) > 3*time.Second || !strings.Contains(r.Err.Error(), "200ms")) {
			t.Errorf("slow: health_check_timeout not applied: %v after %v", r.Err, time.Since(start))
		}
		if model == "bad-timeout" && !strings.Contains(r.Err.Error(), "model_info.health_check_timeout") {
			t.Errorf("bad-timeout: the error does not name the key: %v", r.Err)
		}
	}
}
