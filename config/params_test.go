package config

import (
	"slices"
	"strings"
	"testing"
)

// A litellm_params key llmedge does not act on is a warning naming the
// key and every model_name that sets it; a LiteLLM key llmedge knows
// says what llmedge does instead, an unknown one gets "did you mean";
// the keys llmedge (or a provider) reads are not reported.
func TestIgnoredParams(t *testing.T) {
	cfg := mustParse(t, `
model_list:
  - model_name: a
    litellm_params: {model: openai/x, region_name: eu, temprature: 0.1, temperature: 0.2, organization: org-1, input_cost_per_token: 0.1, http_proxy: "http://127.0.0.1:1"}
  - model_name: b
    litellm_params: {model: openai/y, region_name: us, mock_timeout: true, rpm_limit: 3}
  - model_name: v
    litellm_params: {model: vertex_ai/gemini, vertex_project: p, vertex_location: l, extra_body: {top_k: 3}}
  - model_name: w
    litellm_params: {model: bedrock/m, aws_region_name: r, aws_access_key_id: k, aws_secret_access_key: s, thinking: {type: enabled}}
general_settings: {master_key: sk-1}
`, nil)
	got := cfg.IgnoredWarnings()
	want := []string{
		`model_list[].litellm_params.mock_timeout (model_name "b"): no timeout is simulated`,
		`model_list[].litellm_params.region_name (model_name "a", "b"): deployments are not chosen by the client's region`,
		`model_list[].litellm_params.rpm_limit (model_name "b"): not a litellm_params key llmedge acts on; ignored`,
		`model_list[].litellm_params.temprature (model_name "a"): not a litellm_params key llmedge acts on; ignored; did you mean temperature?`,
	}
	if len(got) != len(want) {
		t.Fatalf("warnings:\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) {
			t.Errorf("warning %d = %q, want prefix %q", i, got[i], w)
		}
	}
	if strings.Contains(got[2], "did you mean") {
		t.Errorf("rpm_limit is no typo of a known key: %q", got[2])
	}
}

// Every litellm_params key a provider reads is one llmedge acts on.
func TestParamsActedOnCoverProviders(t *testing.T) {
	for _, k := range []string{"vertex_credentials", "azure_ad_token", "aws_web_identity_token", "aws_bedrock_runtime_endpoint",
		"drop_params", "max_parallel_requests", "connection_pool", "ssl_verify", "no_proxy", "max_completion_tokens", "extra_body"} {
		if !ParamActedOn(k) {
			t.Errorf("%s is read by llmedge but reported as ignored", k)
		}
	}
	for k := range ignoredParams {
		if ParamActedOn(k) {
			t.Errorf("%s is both acted on and ignored", k)
		}
	}
}

// general_settings.database_url is the key database's (keys/): never
// reported. store_model_in_db: true is reported (models come from the
// file only); false is what llmedge does and is not; a value that is
// not a boolean is an error naming the key.
func TestDatabaseSettings(t *testing.T) {
	cfg := mustParse(t, "general_settings:\n  master_key: sk-1\n  database_url: postgresql://u:p@db/x\n", nil)
	if len(cfg.Ignored) != 0 || cfg.General.DatabaseURL != "postgresql://u:p@db/x" {
		t.Errorf("database_url: ignored %q, url %q", cfg.Ignored, cfg.General.DatabaseURL)
	}
	cfg = mustParse(t, "general_settings:\n  master_key: sk-1\n  database_url: sqlite:///x.db\n  store_model_in_db: false\n", nil)
	if len(cfg.Ignored) != 0 {
		t.Errorf("store_model_in_db: false reported: %q", cfg.IgnoredWarnings())
	}
	cfg = mustParse(t, "general_settings:\n  master_key: sk-1\n  store_model_in_db: true\n", nil)
	w := cfg.IgnoredWarnings()
	if len(w) != 1 || !strings.HasPrefix(w[0], "general_settings.store_model_in_db: true is not acted on: models come from this file only") {
		t.Errorf("store_model_in_db: true: %q", w)
	}
	errs := parseErrs(t, "general_settings:\n  master_key: sk-1\n  store_model_in_db: sometimes\n", nil)
	if !slices.ContainsFunc(errs, func(e *Error) bool { return e.Path == "general_settings.store_model_in_db" }) {
		t.Errorf("errors: %v", errs)
	}
}
