package config

import (
	"slices"
	"strings"
	"testing"
)

// Every key llmedge does not act on is a warning naming it and what
// llmedge does instead; likely typos get "did you mean".
func TestIgnoredWarnings(t *testing.T) {
	cfg := mustParse(t, `
model_lists:
  - model_name: m
    litellm_params: {model: openai/x}
.anchors: &a {model: openai/y}
x-shared: {b: 1}
general_settings:
  master_key: sk-1
  allowed_routes: ["/v1/chat/completions"]
  pass_through_endpoints: []
  store_model_in_db: true
  mastr_key: sk-2
litellm_settings:
  drop_param: true
  telemetry: false
router_settings:
  some_future_key: 1
`, nil)
	got := cfg.IgnoredWarnings()
	want := []string{
		"general_settings.mastr_key: not acted on; llmedge behaves as if it were absent; did you mean general_settings.master_key?",
		"general_settings.pass_through_endpoints: pass-through endpoints are not served",
		"general_settings.store_model_in_db: true is not acted on: models come from this file only",
		"litellm_settings.drop_param: not acted on; llmedge behaves as if it were absent; did you mean litellm_settings.drop_params?",
		"litellm_settings.telemetry: not acted on; llmedge behaves as if it were absent",
		"model_lists: not a section llmedge reads; ignored; did you mean model_list?",
		"router_settings.some_future_key: not acted on; llmedge behaves as if it were absent",
	}
	if len(got) != len(want) {
		t.Fatalf("warnings:\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) {
			t.Errorf("warning %d = %q, want prefix %q", i, got[i], w)
		}
	}
	if strings.Contains(got[6], "did you mean") {
		t.Errorf("no key is close to some_future_key: %q", got[6])
	}
	if slices.ContainsFunc(cfg.Ignored, func(k string) bool { return k == ".anchors" || k == "x-shared" }) {
		t.Errorf("anchor holders reported: %q", cfg.Ignored)
	}
}
