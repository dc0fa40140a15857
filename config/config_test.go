package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// env returns a Getenv backed by m only (never the process environment).
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func mustParse(t *testing.T, src string, vars map[string]string) *Config {
	t.Helper()
	cfg, err := Parse([]byte(src), Options{Getenv: env(vars)})
	if err != nil {
		t.Fatalf("Parse: %v\n--- input ---\n%s", err, src)
	}
	return cfg
}

// parseErrs parses src expecting failure and returns the errors.
func parseErrs(t *testing.T, src string, vars map[string]string) Errors {
	t.Helper()
	cfg, err := Parse([]byte(src), Options{Getenv: env(vars), Strict: true})
	if err == nil {
		t.Fatalf("Parse succeeded (%d deployments), want error\n--- input ---\n%s", len(cfg.Deployments), src)
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error is %T, want Errors: %v", err, err)
	}
	return es
}

func hasErr(es Errors, path, msgPart string) bool {
	for _, e := range es {
		if e.Path == path && strings.Contains(e.Msg, msgPart) {
			return true
		}
	}
	return false
}

func wantErr(t *testing.T, es Errors, path, msgPart string) {
	t.Helper()
	if !hasErr(es, path, msgPart) {
		t.Errorf("no error at %q containing %q; got:\n%v", path, msgPart, es)
	}
}

func oneModel(params string) string {
	return "model_list:\n  - model_name: m\n    litellm_params:\n" + params
}

func TestProviderAndUpstreamModel(t *testing.T) {
	tests := []struct {
		model, custom      string
		provider, upstream string
	}{
		{"openai/gpt-4o", "", "openai", "gpt-4o"},
		{"OpenAI/gpt-4o", "", "openai", "gpt-4o"},
		{"azure/o_series/o3-mini", "", "azure", "o_series/o3-mini"},
		{"openrouter/meta-llama/llama-3:free", "", "openrouter", "meta-llama/llama-3:free"},
		{"openai/*", "", "openai", "*"},
		{"*", "", "", "*"},
		{"azure/", "", "azure", ""},
		{"google/gemini-3-flash", "openai", "openai", "google/gemini-3-flash"},
		{"openai/gpt-4o", "OpenAI", "openai", "gpt-4o"},
		{"my-model", "hosted_vllm", "hosted_vllm", "my-model"},
		{"gpt-4o-mini", "", "openai", "gpt-4o-mini"},
		{"gpt-3.5-turbo-1106", "", "openai", "gpt-3.5-turbo-1106"},
		{"o1-mini", "", "openai", "o1-mini"},
		{"o3", "", "openai", "o3"},
		{"o4-mini", "", "openai", "o4-mini"},
		{"chatgpt-4o-latest", "", "openai", "chatgpt-4o-latest"},
		{"text-embedding-3-small", "", "openai", "text-embedding-3-small"},
		{"gpt-image-1", "", "openai", "gpt-image-1"},
		{"dall-e-3", "", "openai", "dall-e-3"},
		{"whisper-1", "", "openai", "whisper-1"},
		{"tts-1-hd", "", "openai", "tts-1-hd"},
		{"davinci-002", "", "openai", "davinci-002"},
		{"babbage-002", "", "openai", "babbage-002"},
		{"claude-3-5-sonnet-20240620", "", "anthropic", "claude-3-5-sonnet-20240620"},
		{"gemini-1.5-pro", "", "gemini", "gemini-1.5-pro"},
		{"command-r-plus", "", "cohere", "command-r-plus"},
		{"anthropic.claude-3-5-sonnet-20240620-v1:0", "", "bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0"},
		{"us.anthropic.claude-3-7-sonnet-20250219-v1:0", "", "bedrock", "us.anthropic.claude-3-7-sonnet-20250219-v1:0"},
		{"eu.meta.llama3-2-3b-instruct-v1:0", "", "bedrock", "eu.meta.llama3-2-3b-instruct-v1:0"},
		{"apac.amazon.nova-pro-v1:0", "", "bedrock", "apac.amazon.nova-pro-v1:0"},
		{"amazon.titan-text-express-v1", "", "bedrock", "amazon.titan-text-express-v1"},
		{"meta.llama3-70b-instruct-v1:0", "", "bedrock", "meta.llama3-70b-instruct-v1:0"},
		{"mistral.mistral-large-2402-v1:0", "", "bedrock", "mistral.mistral-large-2402-v1:0"},
		{"cohere.command-r-v1:0", "", "bedrock", "cohere.command-r-v1:0"},
		{"ai21.jamba-instruct-v1:0", "", "bedrock", "ai21.jamba-instruct-v1:0"},
		{"mistral-large-latest", "", "mistral", "mistral-large-latest"},
		{"mixtral-8x7b", "", "mistral", "mixtral-8x7b"},
		{"codestral-latest", "", "mistral", "codestral-latest"},
		{"llama3", "", "", "llama3"},
	}
	for _, tt := range tests {
		t.Run(tt.model+"|"+tt.custom, func(t *testing.T) {
			p := "      model: \"" + tt.model + "\"\n"
			if tt.custom != "" {
				p += "      custom_llm_provider: " + tt.custom + "\n"
			}
			d := mustParse(t, oneModel(p), nil).Deployments[0]
			if d.Model != tt.model || d.Provider != tt.provider || d.UpstreamModel != tt.upstream {
				t.Errorf("got Model=%q Provider=%q Upstream=%q, want %q %q %q", d.Model, d.Provider, d.UpstreamModel, tt.model, tt.provider, tt.upstream)
			}
		})
	}
}

func TestWildcardModelNameLoads(t *testing.T) {
	cfg := mustParse(t, `
model_list:
  - model_name: "*"
    litellm_params:
      model: openai/*
  - model_name: "anthropic/*"
    litellm_params:
      model: "anthropic/*"
`, nil)
	if got := cfg.Models(); !slices.Equal(got, []string{"*", "anthropic/*"}) {
		t.Errorf("Models() = %q", got)
	}
	if d := cfg.Deployments[1]; d.Provider != "anthropic" || d.UpstreamModel != "*" {
		t.Errorf("got %q %q", d.Provider, d.UpstreamModel)
	}
}

func TestLiteLLMParamsFields(t *testing.T) {
	cfg := mustParse(t, oneModel(`      model: azure/gpt-4o
      api_base: https://example.openai.azure.com/
      api_key: sk-literal
      api_version: "2024-02-01"
      extra_headers:
        X-Zeta: "1"
        HTTP-Referer: https://example.com
        X-Alpha: 2
      max_retries: 0
      rpm: 480
      tpm: 20_000
      max_parallel_requests: 12
      weight: 2.5
      mock_response: ""
      vertex_project: my-proj
      thinking: {type: enabled, budget_tokens: 1024}
`)+`    model_info:
      id: dep-1
      mode: chat
      input_cost_per_token: 0.000001
`, nil)
	d := cfg.Deployments[0]
	if d.APIBase != "https://example.openai.azure.com/" || d.APIKey != "sk-literal" || d.APIVersion != "2024-02-01" {
		t.Errorf("api fields: %q %q %q", d.APIBase, d.APIKey, d.APIVersion)
	}
	wantH := []Header{{"X-Zeta", "1"}, {"HTTP-Referer", "https://example.com"}, {"X-Alpha", "2"}}
	if !reflect.DeepEqual(d.ExtraHeaders, wantH) {
		t.Errorf("ExtraHeaders = %v, want file order %v", d.ExtraHeaders, wantH)
	}
	if d.MaxRetries == nil || *d.MaxRetries != 0 {
		t.Errorf("MaxRetries = %v, want pointer to 0", d.MaxRetries)
	}
	if d.RPM != 480 || d.TPM != 20000 || d.Weight != 2.5 || d.MaxParallel != 12 {
		t.Errorf("RPM/TPM/Weight/MaxParallel = %d %d %v %d", d.RPM, d.TPM, d.Weight, d.MaxParallel)
	}
	if !d.HasMockResponse || d.MockResponse != "" {
		t.Errorf("explicit empty mock_response: Has=%v %q", d.HasMockResponse, d.MockResponse)
	}
	if d.ID != "dep-1" {
		t.Errorf("ID = %q", d.ID)
	}
	if d.Params["vertex_project"] != "my-proj" || d.Params["model"] != "azure/gpt-4o" || d.Params["api_key"] != "sk-literal" {
		t.Errorf("Params missing keys: %v", d.Params)
	}
	if th, _ := d.Params["thinking"].(map[string]any); th["type"] != "enabled" {
		t.Errorf("Params.thinking = %v", d.Params["thinking"])
	}
	if d.ModelInfo["mode"] != "chat" || d.ModelInfo["id"] != "dep-1" {
		t.Errorf("ModelInfo = %v", d.ModelInfo)
	}
}

func TestBaseURLIsAliasOfAPIBase(t *testing.T) {
	d := mustParse(t, oneModel("      model: openai/x\n      base_url: http://localhost:8000/v1\n"), nil).Deployments[0]
	if d.APIBase != "http://localhost:8000/v1" {
		t.Errorf("APIBase = %q", d.APIBase)
	}
	d = mustParse(t, oneModel("      model: openai/x\n      api_base: http://a\n      base_url: http://b\n"), nil).Deployments[0]
	if d.APIBase != "http://a" {
		t.Errorf("api_base must win over base_url, got %q", d.APIBase)
	}
}

func TestMockResponseAbsentVsSet(t *testing.T) {
	d := mustParse(t, oneModel("      model: openai/x\n"), nil).Deployments[0]
	if d.HasMockResponse {
		t.Error("HasMockResponse without mock_response")
	}
	d = mustParse(t, oneModel("      model: openai/x\n      mock_response: hi\n"), nil).Deployments[0]
	if !d.HasMockResponse || d.MockResponse != "hi" {
		t.Errorf("got %v %q", d.HasMockResponse, d.MockResponse)
	}
}

func TestTimeoutsAreSeconds(t *testing.T) {
	tests := []struct {
		name           string
		params, global string
		timeout, strm  time.Duration
	}{
		{"int", "timeout: 300\n      stream_timeout: 60", "", 300 * time.Second, 60 * time.Second},
		{"float", "timeout: 1.5\n      stream_timeout: 0.001", "", 1500 * time.Millisecond, time.Millisecond},
		{"string", "timeout: \"30\"\n      stream_timeout: ' 2.5 '", "", 30 * time.Second, 2500 * time.Millisecond},
		{"fallback to request_timeout", "rpm: 1", "litellm_settings:\n  request_timeout: 600\n", 600 * time.Second, 0},
		{"own timeout beats request_timeout", "timeout: 5", "litellm_settings:\n  request_timeout: 600\n", 5 * time.Second, 0},
		{"unset", "rpm: 1", "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustParse(t, tt.global+oneModel("      model: openai/x\n      "+tt.params+"\n"), nil).Deployments[0]
			if d.Timeout != tt.timeout || d.StreamTimeout != tt.strm {
				t.Errorf("Timeout=%v StreamTimeout=%v, want %v %v", d.Timeout, d.StreamTimeout, tt.timeout, tt.strm)
			}
		})
	}
}

func TestEntryLevelRPMTPMAreUsed(t *testing.T) {
	d := mustParse(t, `
model_list:
  - model_name: m
    litellm_params:
      model: openai/x
    rpm: 10
    tpm: 2000
`, nil).Deployments[0]
	if d.RPM != 10 || d.TPM != 2000 {
		t.Errorf("RPM/TPM = %d/%d", d.RPM, d.TPM)
	}
}

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		name, src, path, msg string
	}{
		{"model_list not a list", "model_list: {a: 1}\n", "model_list", "must be a list"},
		{"entry not a mapping", "model_list:\n  - just-a-string\n", "model_list[0]", "must be a mapping"},
		{"missing model_name", "model_list:\n  - litellm_params: {model: openai/x}\n", "model_list[0].model_name", "missing"},
		{"model_name from unset variable", "model_list:\n  - model_name: os.environ/NOPE\n    litellm_params: {model: openai/x}\n", "model_list[0].model_name", "NOPE"},
		{"empty model_name", "model_list:\n  - model_name: ''\n    litellm_params: {model: openai/x}\n", "model_list[0].model_name", "empty"},
		{"missing litellm_params", "model_list:\n  - model_name: m\n", "model_list[0].litellm_params", "missing"},
		{"litellm_params not a mapping", "model_list:\n  - model_name: m\n    litellm_params: [1]\n", "model_list[0].litellm_params", "must be a mapping"},
		{"missing model", "model_list:\n  - model_name: m\n    litellm_params: {api_key: x}\n", "model_list[0].litellm_params.model", "missing"},
		{"model is a list", "model_list:\n  - model_name: m\n    litellm_params: {model: [a]}\n", "model_list[0].litellm_params.model", "want a string, got a list"},
		{"rpm not a number", oneModel("      model: openai/x\n      rpm: \"abc\"\n"), "model_list[0].litellm_params.rpm", `want a whole number >= 0, got "abc"`},
		{"rpm fractional", oneModel("      model: openai/x\n      rpm: 1.5\n"), "model_list[0].litellm_params.rpm", "whole number"},
		{"tpm negative", oneModel("      model: openai/x\n      tpm: -1\n"), "model_list[0].litellm_params.tpm", "want a whole number >= 0, got -1"},
		{"max_retries bool", oneModel("      model: openai/x\n      max_retries: true\n"), "model_list[0].litellm_params.max_retries", "got true"},
		{"negative timeout", oneModel("      model: openai/x\n      timeout: -5\n"), "model_list[0].litellm_params.timeout", "got -5"},
		{"negative stream_timeout", oneModel("      model: openai/x\n      stream_timeout: \"-1\"\n"), "model_list[0].litellm_params.stream_timeout", `got "-1"`},
		{"timeout not numeric", oneModel("      model: openai/x\n      timeout: soon\n"), "model_list[0].litellm_params.timeout", "seconds"},
		{"timeout infinite", oneModel("      model: openai/x\n      timeout: .inf\n"), "model_list[0].litellm_params.timeout", "got .inf"},
		{"weight negative", oneModel("      model: openai/x\n      weight: -1\n"), "model_list[0].litellm_params.weight", "want a number >= 0, got -1"},
		{"extra_headers list", oneModel("      model: openai/x\n      extra_headers: [a]\n"), "model_list[0].litellm_params.extra_headers", "mapping"},
		{"extra_headers bad name", oneModel("      model: openai/x\n      extra_headers: {\"bad header\": x}\n"), "model_list[0].litellm_params.extra_headers.bad header", "header name"},
		{"model_info not a mapping", oneModel("      model: openai/x\n") + "    model_info: 3\n", "model_list[0].model_info", "mapping"},
		{"negative request_timeout", "litellm_settings:\n  request_timeout: -1\n", "litellm_settings.request_timeout", "got -1"},
		{"drop_params not bool", "litellm_settings:\n  drop_params: maybe\n", "litellm_settings.drop_params", "true or false"},
		{"num_retries not int", "litellm_settings:\n  num_retries: x\n", "litellm_settings.num_retries", `want a whole number >= 0, got "x"`},
		{"router num_retries", "router_settings:\n  num_retries: [1]\n", "router_settings.num_retries", "want a whole number >= 0, got a list"},
		{"general_settings not a mapping", "general_settings: [1]\n", "general_settings", "mapping"},
		{"master_key a mapping", "general_settings:\n  master_key: {a: b}\n", "general_settings.master_key", "string"},
		{"environment_variables a list", "environment_variables: [A]\n", "environment_variables", "mapping"},
		{"top level a list", "- a\n- b\n", "", "top level"},
		{"unknown alias", "model_list: *nope\n", "model_list", "no anchor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, parseErrs(t, tt.src, nil), tt.path, tt.msg)
		})
	}
}

func TestAllErrorsAreReportedTogether(t *testing.T) {
	src := `
model_list:
  - model_name: a
    litellm_params: {model: openai/x, rpm: abc}
  - litellm_params: {model: openai/y}
  - model_name: c
    litellm_params: {timeout: -1}
litellm_settings:
  num_retries: -2
`
	es := parseErrs(t, src, nil)
	wantErr(t, es, "model_list[0].litellm_params.rpm", "whole number")
	wantErr(t, es, "model_list[1].model_name", "missing")
	wantErr(t, es, "model_list[2].litellm_params.model", "missing")
	wantErr(t, es, "model_list[2].litellm_params.timeout", "got -1")
	wantErr(t, es, "litellm_settings.num_retries", "got -2")

	// The aggregate is usable with errors.As for a single *Error, and its
	// text has one line per problem in the documented format.
	_, err := Parse([]byte(src), Options{Getenv: env(nil), Strict: true})
	var one *Error
	if !errors.As(err, &one) {
		t.Fatal("errors.As(*Error) failed on Errors")
	}
	if !strings.HasPrefix(one.Error(), "config: "+one.Path+": ") {
		t.Errorf("Error() = %q", one.Error())
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != len(es) {
		t.Errorf("Error() has %d lines for %d errors", n, len(es))
	}
}

func TestIDs(t *testing.T) {
	t.Run("generated from model_name and index", func(t *testing.T) {
		cfg := mustParse(t, `
model_list:
  - model_name: a
    litellm_params: {model: openai/x}
  - model_name: a
    litellm_params: {model: openai/y}
    model_info: {id: custom}
`, nil)
		if cfg.Deployments[0].ID != "a-0" || cfg.Deployments[1].ID != "custom" {
			t.Errorf("ids = %q %q", cfg.Deployments[0].ID, cfg.Deployments[1].ID)
		}
	})
	t.Run("numeric id", func(t *testing.T) {
		cfg := mustParse(t, "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\n    model_info: {id: 1}\n", nil)
		if cfg.Deployments[0].ID != "1" {
			t.Errorf("id = %q", cfg.Deployments[0].ID)
		}
	})
	t.Run("duplicate explicit ids name both paths", func(t *testing.T) {
		es := parseErrs(t, `
model_list:
  - model_name: a
    litellm_params: {model: openai/x}
    model_info: {id: same}
  - model_name: b
    litellm_params: {model: openai/y}
    model_info: {id: same}
`, nil)
		wantErr(t, es, "model_list[1].model_info.id", "model_list[0].model_info.id")
	})
	t.Run("generated id steps aside for an explicit one", func(t *testing.T) {
		cfg := mustParse(t, `
model_list:
  - model_name: a
    litellm_params: {model: openai/x}
  - model_name: b
    litellm_params: {model: openai/y}
    model_info: {id: a-0}
`, nil)
		if id := cfg.Deployments[0].ID; id == "a-0" || id == "" {
			t.Errorf("generated id %q collides", id)
		}
	})
}

func TestSettings(t *testing.T) {
	cfg := mustParse(t, `
general_settings:
  master_key: sk-1234
  database_url: postgres://x
litellm_settings:
  drop_params: True
  num_retries: 3
  request_timeout: 600
  json_logs: "true"
  callbacks: [otel]
router_settings:
  num_retries: 2
  model_group_alias: {a: b, c: {model: d, hidden: true}}
  enable_pre_call_checks: true
`, nil)
	if cfg.General.MasterKey != "sk-1234" || cfg.General.DatabaseURL != "postgres://x" {
		t.Errorf("general: %+v", cfg.General)
	}
	l := cfg.LiteLLM
	if !l.DropParams || l.NumRetries == nil || *l.NumRetries != 3 || l.RequestTimeout != 600*time.Second || !l.JSONLogs ||
		!slices.Equal(l.Callbacks, []string{"otel"}) {
		t.Errorf("litellm: %+v", l)
	}
	r := cfg.Router
	if r.RoutingStrategy != "simple-shuffle" || r.NumRetries == nil || *r.NumRetries != 2 {
		t.Errorf("router: %+v", r)
	}
	// database_url is read (keys/); callbacks too: "otel" turns
	// tracing on (internal/tracing).
	if want := []string{"router_settings.enable_pre_call_checks"}; !slices.Equal(cfg.Ignored, want) {
		t.Errorf("Ignored = %q, want %q", cfg.Ignored, want)
	}
	if a := cfg.Router.ModelGroupAlias; len(a) != 2 || a["a"] != (GroupAlias{Model: "b"}) || a["c"] != (GroupAlias{Model: "d", Hidden: true}) {
		t.Errorf("model_group_alias = %+v", a)
	}
	if len(cfg.Deployments) != 0 || len(cfg.Models()) != 0 {
		t.Error("a file without model_list must load with zero deployments")
	}

	cfg = mustParse(t, "router_settings:\n  routing_strategy: latency-based-routing\n", nil)
	if cfg.Router.RoutingStrategy != "latency-based-routing" {
		t.Errorf("routing_strategy = %q", cfg.Router.RoutingStrategy)
	}
}

func TestIgnoredKeys(t *testing.T) {
	cfg := mustParse(t, `
model_list:
  - model_name: m
    litellm_params: {model: openai/x, region_name: eu, input_cost_per_second: 1}
    tags: [a]
  - model_name: n
    litellm_params: {model: openai/y, max_parallel_requests: 10}
    tags: [b]
general_settings:
  master_key: sk-1
  database_url: x
  store_model_in_db: true
  alerting: [slack]
litellm_settings:
  drop_params: true
  callbacks: [otel]
  success_callback: [langfuse]
  failure_callback: [sentry]
  guardrails: []
  fallbacks: []
router_settings:
  routing_strategy: simple-shuffle
  redis_host: localhost
  enable_pre_call_checks: true
environment_variables: {}
include: []
guardrails: []
agents: {}
user_id_mappings: {}
`, nil)
	want := []string{
		"agents",
		"general_settings.alerting",
		"general_settings.store_model_in_db",
		"guardrails",
		"litellm_settings.failure_callback",
		"litellm_settings.guardrails",
		"model_list[].litellm_params.region_name",
		"model_list[].tags",
		"router_settings.enable_pre_call_checks",
	}
	if !slices.Equal(cfg.Ignored, want) {
		t.Errorf("Ignored =\n%q\nwant\n%q", cfg.Ignored, want)
	}
}

func TestUserIDMappings(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		u := mustParse(t, "model_list: []\n", nil).UserIDMappings
		if u.CustomHeader != "x-memory-user-id" || u.DefaultUserID != "default-dev" || len(u.HeaderPatterns) != 0 {
			t.Errorf("%+v", u)
		}
	})
	t.Run("patterns compile case-insensitive and unanchored", func(t *testing.T) {
		u := mustParse(t, `
user_id_mappings:
  custom_header: X-User
  header_patterns:
    - header: User-Agent
      pattern: "claude-cli"
      user_id: claude
    - {header: x-client, pattern: "^cursor$", user_id: cursor-user}
  default_user_id: anon
`, nil).UserIDMappings
		if u.CustomHeader != "x-user" || u.DefaultUserID != "anon" || len(u.HeaderPatterns) != 2 {
			t.Fatalf("%+v", u)
		}
		p := u.HeaderPatterns[0]
		if p.Header != "user-agent" || p.Pattern != "claude-cli" || p.UserID != "claude" {
			t.Errorf("%+v", p)
		}
		if p.Regexp == nil || !p.Regexp.MatchString("Mozilla CLAUDE-CLI/1.0") {
			t.Error("pattern should match case-insensitively anywhere")
		}
		if u.HeaderPatterns[1].Regexp.MatchString("cursor2") {
			t.Error("explicit anchors must be kept")
		}
	})
	tests := []struct{ name, body, path, msg string }{
		{"bad regexp", "  header_patterns:\n    - {header: a, pattern: ok, user_id: u}\n    - {header: a, pattern: '(', user_id: u}\n", "user_id_mappings.header_patterns[1].pattern", "regular expression"},
		{"empty pattern", "  header_patterns:\n    - {header: a, pattern: '', user_id: u}\n", "user_id_mappings.header_patterns[0].pattern", "empty"},
		{"missing header", "  header_patterns:\n    - {pattern: x, user_id: u}\n", "user_id_mappings.header_patterns[0].header", "missing"},
		{"bad header name", "  header_patterns:\n    - {header: 'a b', pattern: x, user_id: u}\n", "user_id_mappings.header_patterns[0].header", "header name"},
		{"duplicate pair", "  header_patterns:\n    - {header: A, pattern: x, user_id: u}\n    - {header: a, pattern: x, user_id: v}\n", "user_id_mappings.header_patterns[1]", "header_patterns[0]"},
		{"unknown key in entry", "  header_patterns:\n    - {header: a, pattern: x, user_id: u, userid: v}\n", "user_id_mappings.header_patterns[0].userid", "unknown key"},
		{"unknown key in section", "  customheader: x\n", "user_id_mappings.customheader", "unknown key"},
		{"empty user_id", "  header_patterns:\n    - {header: a, pattern: x, user_id: ''}\n", "user_id_mappings.header_patterns[0].user_id", "empty"},
		{"user_id with space", "  header_patterns:\n    - {header: a, pattern: x, user_id: 'a b'}\n", "user_id_mappings.header_patterns[0].user_id", "whitespace"},
		{"user_id with control", "  header_patterns:\n    - {header: a, pattern: x, user_id: \"a\\tb\"}\n", "user_id_mappings.header_patterns[0].user_id", "whitespace"},
		{"default_user_id with space", "  default_user_id: 'a b'\n", "user_id_mappings.default_user_id", "whitespace"},
		{"patterns not a list", "  header_patterns: {a: b}\n", "user_id_mappings.header_patterns", "list"},
		{"entry not a mapping", "  header_patterns: [x]\n", "user_id_mappings.header_patterns[0]", "mapping"},
		{"section not a mapping", "", "user_id_mappings", "mapping"},
		{"user_id from unset variable", "  header_patterns:\n    - {header: a, pattern: x, user_id: os.environ/NOPE}\n", "user_id_mappings.header_patterns[0].user_id", "NOPE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "user_id_mappings:\n" + tt.body
			if tt.body == "" {
				src = "user_id_mappings: [1]\n"
			}
			wantErr(t, parseErrs(t, src, nil), tt.path, tt.msg)
		})
	}
}

func TestEnvResolution(t *testing.T) {
	vars := map[string]string{"KEY": "sk-from-env", "BASE": "http://h", "RPM": "30", "HDR": "v", "HOST": "redis", "TO": "7.5"}
	cfg := mustParse(t, `
model_list:
  - model_name: m
    litellm_params:
      model: openai/x
      api_key: os.environ/KEY
      api_base: os.environ/BASE
      rpm: os.environ/RPM
      timeout: os.environ/TO
      extra_headers: {X-H: os.environ/HDR}
      nested: {list: [os.environ/HDR, plain]}
router_settings:
  redis_host: os.environ/HOST
general_settings:
  master_key: os.environ/KEY
`, vars)
	d := cfg.Deployments[0]
	if d.APIKey != "sk-from-env" || d.APIBase != "http://h" || d.RPM != 30 || d.Timeout != 7500*time.Millisecond {
		t.Errorf("deployment: %+v", d)
	}
	if d.ExtraHeaders[0].Value != "v" {
		t.Errorf("headers: %v", d.ExtraHeaders)
	}
	if got := d.Params["nested"].(map[string]any)["list"]; !reflect.DeepEqual(got, []any{"v", "plain"}) {
		t.Errorf("nested list: %v", got)
	}
	if d.Params["api_key"] != "sk-from-env" {
		t.Errorf("Params must hold resolved values: %v", d.Params["api_key"])
	}
	if cfg.Router.RedisHost != "redis" || cfg.General.MasterKey != "sk-from-env" {
		t.Errorf("sections: %+v %q", cfg.Router, cfg.General.MasterKey)
	}
	if len(d.MissingEnv) != 0 || len(cfg.Warnings) != 0 {
		t.Errorf("unexpected missing/warnings: %v %v", d.MissingEnv, cfg.Warnings)
	}
}

func TestMissingEnvInDeploymentLoadsUnavailable(t *testing.T) {
	cfg := mustParse(t, `
model_list:
  - model_name: gpt
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY
      api_base: os.environ/OPENAI_BASE
      organization: os.environ/OPENAI_API_KEY
      rpm: os.environ/RPM
  - model_name: ok
    litellm_params: {model: openai/x, api_key: literal}
`, nil)
	d := cfg.Deployments[0]
	if !slices.Equal(d.MissingEnv, []string{"OPENAI_API_KEY", "OPENAI_BASE", "RPM"}) {
		t.Errorf("MissingEnv = %q", d.MissingEnv)
	}
	if d.APIKey != "" || d.APIBase != "" || d.RPM != 0 || d.Params["api_key"] != "" {
		t.Errorf("placeholder values leaked into fields: %q %q %d %v", d.APIKey, d.APIBase, d.RPM, d.Params["api_key"])
	}
	if len(cfg.Deployments[1].MissingEnv) != 0 {
		t.Error("other deployment affected")
	}
	found := false
	for _, w := range cfg.Warnings {
		if strings.Contains(w, "OPENAI_API_KEY") && strings.Contains(w, "gpt-0") && strings.Contains(w, "model_list[0].litellm_params.api_key") {
			found = true
		}
	}
	if !found {
		t.Errorf("no warning naming the variable and the deployment: %q", cfg.Warnings)
	}
}

func TestMissingEnvForMasterKeyFails(t *testing.T) {
	es := parseErrs(t, "general_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n", nil)
	wantErr(t, es, "general_settings.master_key", "LITELLM_MASTER_KEY")
	es = parseErrs(t, "general_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n", map[string]string{"LITELLM_MASTER_KEY": ""})
	wantErr(t, es, "general_settings.master_key", "empty")
}

func TestMissingEnvElsewhereWarnsAndIsEmpty(t *testing.T) {
	cfg := mustParse(t, "router_settings:\n  redis_password: os.environ/REDIS_PASSWORD\nlitellm_settings:\n  request_timeout: os.environ/RT\n", nil)
	if v := cfg.Router.RedisPassword; v != "" {
		t.Errorf("redis_password = %#v", v)
	}
	if cfg.LiteLLM.RequestTimeout != 0 {
		t.Errorf("RequestTimeout = %v", cfg.LiteLLM.RequestTimeout)
	}
	if len(cfg.Warnings) != 2 || !strings.Contains(cfg.Warnings[0], "REDIS_PASSWORD") && !strings.Contains(cfg.Warnings[1], "REDIS_PASSWORD") {
		t.Errorf("warnings = %q", cfg.Warnings)
	}
}

func TestEnvironmentVariablesOverlay(t *testing.T) {
	const name = "LLMEDGE_CONFIG_TEST_OVERLAY"
	cfg := mustParse(t, `
environment_variables:
  `+name+`: from-file
  REAL_COPY: os.environ/REAL
  EMPTY_ONE: ""
  FLAG: true
model_list:
  - model_name: m
    litellm_params:
      model: openai/x
      api_key: os.environ/`+name+`
      api_base: os.environ/REAL_COPY
      organization: os.environ/EMPTY_ONE
      flag: os.environ/FLAG
`, map[string]string{"REAL": "real-value", name: "process-value"})
	d := cfg.Deployments[0]
	if d.APIKey != "from-file" {
		t.Errorf("environment_variables must take precedence, got %q", d.APIKey)
	}
	if d.APIBase != "real-value" || d.Params["organization"] != "" || d.Params["flag"] != "true" {
		t.Errorf("got %q %v %v", d.APIBase, d.Params["organization"], d.Params["flag"])
	}
	if len(d.MissingEnv) != 0 {
		t.Errorf("MissingEnv = %v", d.MissingEnv)
	}
	if _, set := os.LookupEnv(name); set {
		t.Error("the process environment must not be modified")
	}
}

func TestSecretsNeverInMessages(t *testing.T) {
	secrets := map[string]string{"KEY": "sk-SECRET-ENV-1", "RPM": "sk-SECRET-ENV-2", "HDR": "sk-SECRET\nENV-3"}
	src := `
environment_variables:
  PASSWORD: sk-SECRET-FILE-1
model_list:
  - model_name: a
    litellm_params:
      model: openai/x
      api_key: sk-SECRET-FILE-2
      rpm: os.environ/RPM
      tpm: sk-SECRET-FILE-3
      timeout: [sk-SECRET-FILE-4]
      extra_headers: {X-H: os.environ/HDR, X-I: {k: sk-SECRET-FILE-5}}
  - model_name: b
    litellm_params: {model: openai/y, api_key: os.environ/UNSET_KEY}
general_settings:
  master_key: {sk-SECRET-FILE-6: 1}
user_id_mappings:
  header_patterns:
    - {header: a, pattern: os.environ/HDR, user_id: os.environ/HDR}
`
	_, err := Parse([]byte(src), Options{Getenv: env(secrets)})
	if err == nil {
		t.Fatal("expected errors")
	}
	msg := err.Error()
	if strings.Contains(msg, "SECRET") {
		t.Errorf("error text contains a secret:\n%s", msg)
	}
	// Syntax errors must not echo the neighbouring source lines.
	_, err = Parse([]byte("model_list:\n  - model_name: a\n    litellm_params:\n      api_key: sk-SECRET-X\n      model: [unclosed\n"), Options{Getenv: env(nil)})
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("syntax error leaks source: %v", err)
	}
	cfg := mustParse(t, "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: os.environ/KEY, rpm: os.environ/UNSET}\n  - model_name: a\n    litellm_params:\n      model: openai/x\n      api_key: sk-SECRET-DUP\n      api_key: sk-SECRET-DUP2\n", secrets)
	for _, w := range cfg.Warnings {
		if strings.Contains(w, "SECRET") {
			t.Errorf("warning contains a secret: %s", w)
		}
	}
	if len(cfg.Warnings) < 2 {
		t.Errorf("expected missing-env and duplicate-key warnings, got %q", cfg.Warnings)
	}
}

func TestYAMLFeatures(t *testing.T) {
	t.Run("anchors, aliases and merge keys", func(t *testing.T) {
		cfg := mustParse(t, `
.shared: &shared
  api_base: https://openrouter.ai/api/v1
  custom_llm_provider: openai
  timeout: 600
  extra_headers: {X-Title: t}
model_list:
  - model_name: a
    litellm_params:
      <<: *shared
      model: google/a
  - model_name: b
    litellm_params:
      model: google/b
      timeout: 5
      <<: *shared
`, nil)
		a, b := cfg.Deployments[0], cfg.Deployments[1]
		if a.APIBase != "https://openrouter.ai/api/v1" || a.Provider != "openai" || a.UpstreamModel != "google/a" || a.Timeout != 600*time.Second {
			t.Errorf("a: %+v", a)
		}
		if b.Timeout != 5*time.Second {
			t.Errorf("an explicit key must beat a merged one even when written first; got %v", b.Timeout)
		}
		if len(a.ExtraHeaders) != 1 {
			t.Errorf("merged extra_headers: %v", a.ExtraHeaders)
		}
		if len(cfg.Warnings) != 0 {
			t.Errorf("merge must not warn about duplicates: %q", cfg.Warnings)
		}
	})
	t.Run("merge list: first source wins", func(t *testing.T) {
		cfg := mustParse(t, `
x: &x {timeout: 1}
y: &y {timeout: 2, rpm: 3}
model_list:
  - model_name: a
    litellm_params:
      <<: [*x, *y]
      model: openai/a
`, nil)
		if d := cfg.Deployments[0]; d.Timeout != time.Second || d.RPM != 3 {
			t.Errorf("%v %v", d.Timeout, d.RPM)
		}
	})
	t.Run("duplicate keys: last wins with a warning naming the path", func(t *testing.T) {
		cfg := mustParse(t, "general_settings:\n  store_model_in_db: true\n  master_key: a\n  master_key: b\n", nil)
		if cfg.General.MasterKey != "b" {
			t.Errorf("MasterKey = %q", cfg.General.MasterKey)
		}
		if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "general_settings.master_key") || !strings.Contains(cfg.Warnings[0], "line 4") {
			t.Errorf("warnings = %q", cfg.Warnings)
		}
	})
	t.Run("CRLF line endings", func(t *testing.T) {
		src := strings.ReplaceAll("model_list:\n  - model_name: a\n    litellm_params:\n      model: azure/x\n      tpm: 20_000\n      extra_headers:\n        A: b\n", "\n", "\r\n")
		d := mustParse(t, src, nil).Deployments[0]
		if d.ModelName != "a" || d.Model != "azure/x" || d.TPM != 20000 || d.ExtraHeaders[0].Value != "b" {
			t.Errorf("%+v", d)
		}
	})
	t.Run("byte order mark and %YAML directive", func(t *testing.T) {
		for _, src := range []string{
			"\ufeffmodel_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\n",
			"%YAML 1.1\n---\nmodel_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\n",
		} {
			if cfg := mustParse(t, src, nil); len(cfg.Deployments) != 1 || len(cfg.Ignored) != 0 {
				t.Errorf("%q: %d deployments, ignored %q", src, len(cfg.Deployments), cfg.Ignored)
			}
		}
	})
	t.Run("more than one document", func(t *testing.T) {
		wantErr(t, parseErrs(t, "model_list: []\n---\nfoo: 1\n", nil), "", "more than one YAML document")
	})
	t.Run("empty file", func(t *testing.T) {
		for _, src := range []string{"", "  \n\n", "# only a comment\n", "---\n", "~\n"} {
			es := parseErrs(t, src, nil)
			if len(es) != 1 || es[0].Msg != "empty config" {
				t.Errorf("%q: %v", src, es)
			}
		}
	})
	t.Run("syntax error has line and column", func(t *testing.T) {
		es := parseErrs(t, "model_list:\n  - model_name: a\n    litellm_params: {model: x\n", nil)
		if es[0].Line == 0 || !strings.Contains(es[0].Msg, "line") {
			t.Errorf("%+v", es[0])
		}
	})
	t.Run("self-referencing alias", func(t *testing.T) {
		parseErrs(t, "a: &a [*a]\n", nil)
	})
	t.Run("alias bomb is bounded", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
		for i := 1; i < 12; i++ {
			b.WriteString("a" + itoa(i) + ": &a" + itoa(i) + " [")
			for j := 0; j < 10; j++ {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString("*a" + itoa(i-1))
			}
			b.WriteString("]\n")
		}
		es := parseErrs(t, b.String(), nil)
		wantErr(t, es, "", "alias expansion")
	})
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestInclude(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("models.yaml", `
model_list:
  - model_name: inc
    litellm_params: {model: openai/inc, api_key: os.environ/INC_KEY}
litellm_settings:
  drop_params: true
router_settings:
  routing_strategy: from-include
`)
	main := write("config.yaml", `
include:
  - models.yaml
model_list:
  - model_name: main
    litellm_params: {model: openai/main}
router_settings:
  routing_strategy: from-main
`)
	cfg, err := Load(main, Options{Getenv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Models(); !slices.Equal(got, []string{"main", "inc"}) {
		t.Errorf("Models() = %q", got)
	}
	if cfg.Deployments[1].Index != 1 || !slices.Equal(cfg.Deployments[1].MissingEnv, []string{"INC_KEY"}) {
		t.Errorf("included deployment: %+v", cfg.Deployments[1])
	}
	if !cfg.LiteLLM.DropParams || cfg.Router.RoutingStrategy != "from-main" {
		t.Errorf("section merge: drop_params=%v strategy=%q", cfg.LiteLLM.DropParams, cfg.Router.RoutingStrategy)
	}
	if cfg.Path != main {
		t.Errorf("Path = %q", cfg.Path)
	}

	write("broken.yaml", "model_list:\n  - model_name: x\n")
	bad := write("bad.yaml", "include: [broken.yaml, missing.yaml]\n")
	_, err = Load(bad, Options{Getenv: env(nil)})
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("err = %v", err)
	}
	wantErr(t, es, "include[0].model_list[0].litellm_params", "missing")
	wantErr(t, es, "include[1]", "cannot read")

	// BaseDir overrides the file's directory.
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg, err = Parse([]byte("include: [models.yaml]\n"), Options{Getenv: env(nil), BaseDir: dir})
	if err != nil || len(cfg.Deployments) != 1 {
		t.Fatalf("Parse with BaseDir: %v", err)
	}
}

func TestIncludeIsNotRecursive(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("include: [a.yaml]\nmodel_list:\n  - {model_name: a, litellm_params: {model: openai/a}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse([]byte("include: [a.yaml]\n"), Options{Getenv: env(nil), BaseDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Deployments) != 1 || len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "include[0].include") {
		t.Errorf("deployments %d, warnings %q", len(cfg.Deployments), cfg.Warnings)
	}
}

func TestEnvResolvedInEverySection(t *testing.T) {
	cfg := mustParse(t, `
finetune_settings:
  - custom_llm_provider: azure
    api_key: os.environ/AZ
general_settings:
  api_keys:
    - name: t
      key: os.environ/LF
`, map[string]string{"LF": "lf-secret"})
	if keys := cfg.General.APIKeys; len(keys) != 1 || keys[0].Key != "lf-secret" {
		t.Errorf("nested list item not resolved: %+v", keys)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "finetune_settings[0].api_key") || !strings.Contains(cfg.Warnings[0], "AZ") {
		t.Errorf("warnings = %q", cfg.Warnings)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), Options{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want ErrNotExist", err)
	}
}

func TestModelsUniqueFirstSeen(t *testing.T) {
	cfg := mustParse(t, `
model_list:
  - {model_name: b, litellm_params: {model: openai/1}}
  - {model_name: a, litellm_params: {model: openai/2}}
  - {model_name: b, litellm_params: {model: openai/3}}
`, nil)
	if got := cfg.Models(); !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("Models() = %q", got)
	}
}
