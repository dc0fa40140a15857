package anthropic_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream"
	"github.com/llmedge/llmedge/upstream/provider/anthropic"
)

func TestAnthropicRegistryDefaults(t *testing.T) {
	cfg := &config.Config{Deployments: []*config.Deployment{
		{Index: 0, ModelName: "c", ID: "c-0", Model: "anthropic/claude", Provider: "anthropic", UpstreamModel: "claude"},
		{Index: 1, ModelName: "s", ID: "s-1", Model: "anthropic/claude", Provider: "anthropic", UpstreamModel: "claude",
			APIBase: "https://api.supermemory.ai/v3/api.anthropic.com", APIKey: "k"},
	}}
	env := map[string]string{"ANTHROPIC_API_KEY": "ant-env"}
	reg, err := upstream.NewRegistry(cfg, upstream.Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	d := reg.Groups()[0].Deployments[0]
	if d.URI != "https://api.anthropic.com/v1/messages" || d.Key != "ant-env" {
		t.Errorf("default deployment: %q key %q", d.URI, d.Key)
	}
	s := reg.Groups()[1].Deployments[0]
	if !s.Options.Supermemory || len(reg.Warnings()) != 1 || !strings.Contains(reg.Warnings()[0], "SUPERMEMORY_API_KEY") {
		t.Errorf("supermemory without key must warn: %v", reg.Warnings())
	}
	if strings.Contains(strings.Join(reg.Warnings(), " "), "ant-env") {
		t.Error("warning leaks a key")
	}
}

// The loader's litellm_params types (YAML ints, nested mappings) reach
// the translator intact.
func TestAnthropicFromLoadedConfig(t *testing.T) {
	yaml := `model_list:
  - model_name: claude
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      api_base: https://api.supermemory.ai/v3/api.anthropic.com/v1
      api_key: sk-ant
      max_tokens: 1000
      thinking: {type: enabled, budget_tokens: 2048}
      extra_headers:
        x-supermemory-api-key: sm-key
user_id_mappings:
  header_patterns:
    - {header: User-Agent, pattern: "^claude-cli", user_id: claude-code-cli}
`
	cfg, err := config.Parse([]byte(yaml), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := upstream.NewRegistry(cfg, upstream.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	d := reg.Groups()[0].Deployments[0]
	if d.URI != "https://api.supermemory.ai/v3/api.anthropic.com/v1/messages" || !d.Options.Supermemory || len(reg.Warnings()) != 0 {
		t.Errorf("uri %q supermemory %v warnings %v", d.URI, d.Options.Supermemory, reg.Warnings())
	}
	body, terr := anthropic.TranslateRequest(&d.Endpoint, []byte(`{"model":"claude","messages":[{"role":"user","content":"x"}]}`), "claude-sonnet-4-5", false)
	if terr != nil {
		t.Fatal(terr)
	}
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	if anthropic.MustJSON(m["thinking"]) != `{"budget_tokens":2048,"type":"enabled"}` || m["max_tokens"] != 6144.0 {
		t.Errorf("thinking %s max_tokens %v", anthropic.MustJSON(m["thinking"]), m["max_tokens"])
	}
	if p := cfg.UserIDMappings.HeaderPatterns[0]; p.Regexp == nil || !p.Regexp.MatchString("Claude-CLI/1.0") {
		t.Errorf("pattern not compiled by the loader: %+v", p)
	}
}
