package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEgressKeysGlobalAndPerDeployment(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse([]byte(`
model_list:
  - model_name: a
    litellm_params: {model: openai/gpt-4o, https_proxy: "", ssl_verify: false}
  - model_name: b
    litellm_params: {model: openai/gpt-4o}
litellm_settings:
  ssl_verify: `+ca+`
  https_proxy: http://u:p@proxy:3128
  no_proxy: .corp
  ssl_min_version: "1.3"
`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := cfg.LiteLLM.Egress
	if g.SSLVerifyBundle() != ca || *g.HTTPSProxy != "http://u:p@proxy:3128" || g.HTTPProxy != nil || g.SSLMinVersion != "1.3" {
		t.Fatalf("global egress %+v", g)
	}
	a := cfg.Deployments[0].Egress.Over(g)
	if *a.HTTPSProxy != "" || !a.SSLVerifyOff() || *a.NoProxy != ".corp" {
		t.Fatalf("deployment keys must win key by key: %+v", a)
	}
	if cfg.Deployments[1].Egress != nil {
		t.Fatal("a deployment without egress keys has none of its own")
	}
	if len(cfg.Ignored) != 0 {
		t.Fatalf("egress keys reported as ignored: %v", cfg.Ignored)
	}
}

func TestEgressBadValuesNameTheKey(t *testing.T) {
	// Global settings: a load error naming each key. A deployment's own
	// bad values make that deployment unavailable, naming the key (the
	// others are served; --strict makes it an error).
	doc := []byte(`
model_list:
  - model_name: a
    litellm_params: {model: openai/gpt-4o, http_proxy: "socks5://u:secret@h:1080", ssl_certificate: /nonexistent/cert.pem}
litellm_settings:
  ssl_verify: /nonexistent/ca.pem
  ssl_min_version: "1.1"
  https_proxy: "http://u:secret@"
`)
	_, err := Parse(doc, Options{})
	if err == nil {
		t.Fatal("bad egress values accepted")
	}
	msg := err.Error()
	for _, want := range []string{"litellm_settings.ssl_verify", "litellm_settings.ssl_min_version", "litellm_settings.https_proxy"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not name %s: %s", want, msg)
		}
	}
	if strings.Contains(msg, "secret") {
		t.Errorf("error shows a proxy password: %s", msg)
	}

	cfg, err := Parse([]byte(`
model_list:
  - model_name: a
    litellm_params: {model: openai/gpt-4o, http_proxy: "socks5://u:secret@h:1080", ssl_certificate: /nonexistent/cert.pem}
`), Options{})
	if err != nil {
		t.Fatalf("a deployment's bad egress values stopped the load: %v", err)
	}
	invalid := strings.Join(cfg.Deployments[0].Invalid, "\n")
	for _, want := range []string{"model_list[0].litellm_params.http_proxy", "model_list[0].litellm_params.ssl_certificate"} {
		if !strings.Contains(invalid, want) {
			t.Errorf("unavailable deployment does not name %s: %q", want, invalid)
		}
	}
	if strings.Contains(invalid, "secret") || strings.Contains(strings.Join(cfg.Warnings, "\n"), "secret") {
		t.Errorf("a proxy password reached the warnings: %q", invalid)
	}
}
