package config

import (
	"strings"
	"testing"
)

// One deployment with an invalid setting loads as unavailable (its
// problem named) instead of stopping the others; Strict makes it fatal.
func TestInvalidDeploymentLoadsUnavailable(t *testing.T) {
	src := `
model_list:
  - model_name: good
    litellm_params: {model: openai/x}
  - model_name: bad
    litellm_params:
      model: openai/y
      extra_headers: {"bad header": v}
      timeout: abc
`
	cfg := mustParse(t, src, nil)
	if len(cfg.Deployments) != 2 || len(cfg.Deployments[0].Invalid) != 0 {
		t.Fatalf("deployments %d, first invalid %q", len(cfg.Deployments), cfg.Deployments[0].Invalid)
	}
	inv := strings.Join(cfg.Deployments[1].Invalid, "\n")
	for _, want := range []string{"model_list[1].litellm_params.extra_headers.bad header: not a valid HTTP header name", "model_list[1].litellm_params.timeout"} {
		if !strings.Contains(inv, want) {
			t.Errorf("Invalid does not name %q:\n%s", want, inv)
		}
	}
	if !strings.Contains(strings.Join(cfg.Warnings, "\n"), `model_list[1]: deployment (model_name "bad") is unavailable`) {
		t.Errorf("no warning: %q", cfg.Warnings)
	}
	es := parseErrs(t, src, nil)
	wantErr(t, es, "model_list[1].litellm_params.extra_headers.bad header", "not a valid HTTP header name")
}
