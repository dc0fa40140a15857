package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SIGHUP re-reads the config file: a valid one takes over, an invalid
// one is logged and the running config kept.
func TestSIGHUPReloadsConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	write := func(s string) {
		if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("model_list:\n  - model_name: first\n    litellm_params: {model: mock/x}\ngeneral_settings: {master_key: sk-reload-test}\n")
	p := start(t, buildBinary(t), nil, "--config", cfg)
	get := func(path string) string {
		req, _ := http.NewRequest("GET", p.base+path, nil)
		req.Header.Set("Authorization", "Bearer sk-reload-test")
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s\n%s", what, p.stderr)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if !strings.Contains(get("/v1/models"), `"first"`) {
		t.Fatal("first model not served")
	}
	write("model_list:\n  - model_name: second\n    litellm_params: {model: mock/y}\ngeneral_settings: {master_key: sk-reload-test}\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitUntil("the reloaded model", func() bool { return strings.Contains(get("/v1/models"), `"second"`) })

	write("model_list:\n  - model_name: broken\n    litellm_params: {api_key: sk-should-not-leak}\ngeneral_settings: {master_key: sk-reload-test}\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitUntil("the rejection log", func() bool { return strings.Contains(p.stderr.String(), "config reload rejected") })
	if !strings.Contains(get("/v1/models"), `"second"`) {
		t.Fatal("running config lost after an invalid reload")
	}
	if !strings.Contains(p.stderr.String(), "model_list[0].litellm_params.model") {
		t.Errorf("rejection does not name the path:\n%s", p.stderr)
	}
	metrics := get("/metrics")
	if !strings.Contains(metrics, `llmedge_config_reloads_total{result="failure"} 1`) || !strings.Contains(metrics, `llmedge_config_reloads_total{result="success"} 1`) {
		t.Errorf("reload counters wrong:\n%s", metrics)
	}
	for _, secret := range []string{"sk-should-not-leak", "sk-reload-test"} {
		if strings.Contains(p.stderr.String(), secret) || strings.Contains(metrics, secret) {
			t.Errorf("secret %q leaked", secret)
		}
	}
}
