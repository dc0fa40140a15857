package server

import (
	"errors"
	"fmt"
	"github.com/llmedge/llmedge/config"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestAccessLogSinkServed: a served request's line reaches the sink as
// slog's text handler would print it, with the upstream's usage.
func TestAccessLogSinkServed(t *testing.T) {
	up := newFakeOpenAI(t)
	sink := &syncBuffer{}
	gw, logs := startObserved(t, testConfig(dep(0, "m", "openai/m", up.base(), "k")),
		Options{ObserveOptions: ObserveOptions{AccessLog: true, AccessLogOut: sink}})
	body := `{"model":"m","messages":[{"role":"user","content":"TOP-SECRET-PROMPT"}]}`
	if r := rawRequest(t, gw, "POST", "/v1/chat/completions", body, "Authorization: Bearer "+testMasterKey, "X-Request-Id: rid-1"); r.StatusCode != 200 {
		t.Fatalf("status %d: %s", r.StatusCode, r.Body)
	}
	line := sink.String()
	want := regexp.MustCompile(`^time=\S+ level=INFO msg=request request_id=rid-1 model_name=m deployment=m-0 user_id=\S+ key=master status=200 stream=false attempts=1 ttfb_us=\d+ duration_us=\d+ overhead_us=\d+ upstream_us=\d+ prompt_tokens=5 completion_tokens=6\n$`)
	if !want.MatchString(line) {
		t.Errorf("access line: %q", line)
	}
	if strings.Contains(logs.String(), `"msg":"request"`) {
		t.Error("with a sink the line also went through the Logger")
	}
}

func TestAccessLogLine(t *testing.T) {
	up := newFakeOpenAI(t)
	gw, logs := startObserved(t, testConfig(dep(0, "m", "openai/m", up.base(), "k")), Options{ObserveOptions: ObserveOptions{AccessLog: true}})
	body := `{"model":"m","messages":[{"role":"user","content":"TOP-SECRET-PROMPT"}]}`
	rawRequest(t, gw, "POST", "/v1/chat/completions", body, "Authorization: Bearer "+testMasterKey, "X-Request-Id: rid-1")
	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `"msg":"request"`) {
			line = l
		}
	}
	for _, want := range []string{`"request_id":"rid-1"`, `"model_name":"m"`, `"deployment":"m-0"`, `"key":"master"`, `"status":200`,
		`"stream":false`, `"attempts":1`, `"ttfb_us":`, `"duration_us":`, `"overhead_us":`, `"upstream_us":`, `"prompt_tokens":5`, `"completion_tokens":6`} {
		if !strings.Contains(line, want) {
			t.Errorf("access log lacks %s: %s", want, line)
		}
	}
	if strings.Contains(logs.String(), "TOP-SECRET-PROMPT") || strings.Contains(logs.String(), "Hello from") {
		t.Error("message content reached the log")
	}
}

func TestNoSecretInMetricsOrLogs(t *testing.T) {
	const upKey, master = "sk-upstream-SECRET-9f8e7d", "sk-master-SECRET-1a2b3c"
	up := newFakeOpenAI(t)
	d := dep(0, "m", "openai/m", up.base(), upKey)
	d.ExtraHeaders = []config.Header{{Name: "X-Org", Value: "org-SECRET-hdr"}}
	cfg := testConfig(d, dep(1, "down", "openai/x", "http://127.0.0.1:1/v1", upKey))
	cfg.General.MasterKey = master
	setSettings(cfg, "general_settings", map[string]any{"master_key": master})
	var loads int
	opts := Options{ObserveOptions: ObserveOptions{AccessLog: true, LoadConfig: func() (*config.Config, error) {
		loads++
		if loads == 1 {
			bad := testConfig(dep(0, "m", "openai/m", "ftp://nope", upKey))
			bad.General.MasterKey = master
			return bad, nil
		}
		return nil, errors.New("config: model_list[0].litellm_params.api_key: os.environ/KEY is not set")
	}}}
	logs := &syncBuffer{}
	opts.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	gw, _ := startObserved(t, cfg, opts)
	// The upstream echoes its key in an error; llmedge must scrub it.
	up.setHandler(func(w http.ResponseWriter, r *http.Request, b []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s","type":"invalid_request_error","code":"invalid_api_key"}}`, upKey)
	})
	body := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
	rawPost(t, gw, "/v1/chat/completions", body, master)
	rawPost(t, gw, "/v1/chat/completions", `{"model":"down","messages":[{"role":"user","content":"hi"}]}`, master)
	rawPost(t, gw, "/v1/chat/completions", body, master+"x")
	rawPost(t, gw, "/v1/chat/completions", `{"model":"m","stream":true}`, master)
	if r := rawPost(t, gw, "/config/reload", "", master); r.StatusCode != 400 {
		t.Fatalf("invalid reload: %d %s", r.StatusCode, r.Body)
	}
	if r := rawPost(t, gw, "/config/reload", "", master); r.StatusCode != 400 {
		t.Fatalf("failing reload: %d %s", r.StatusCode, r.Body)
	}
	waitFor(t, 3*time.Second, "requests finished", func() bool { return gw.srv.InFlight() == 0 })
	metricsText := rawRequest(t, gw, "GET", "/metrics", "").Body
	for _, secret := range []string{upKey, master, "org-SECRET-hdr", "SECRET"} {
		if strings.Contains(metricsText, secret) {
			t.Errorf("/metrics contains %q", secret)
		}
		if strings.Contains(logs.String(), secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "config reload rejected") {
		t.Error("rejected reload not logged")
	}
}

// A body over the size limit (413, answered by fasthttp's error
// handler) is logged and counted like every refusal.
func TestBodyTooLargeIsLoggedAndCounted(t *testing.T) {
	up := newFakeOpenAI(t)
	cfg := limitsConfig(map[string]any{"max_request_size_mb": 0.001}, dep(0, "m", "openai/m", up.base(), "k"))
	gw, logs := startObserved(t, cfg, Options{ObserveOptions: ObserveOptions{AccessLog: true}})
	if r := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","user":"`+strings.Repeat("x", 2000)+`","messages":[]}`, testMasterKey); r.StatusCode != 413 {
		t.Fatalf("status %d, want 413", r.StatusCode)
	}
	wantSeries(t, scrape(t, gw), `llmedge_rejected_requests_total{reason="body_too_large"}`, 1)
	waitFor(t, 5*time.Second, "the 413's access-log line", func() bool {
		return strings.Contains(logs.String(), `"status":413`) && strings.Contains(logs.String(), `"rejected":"body_too_large"`)
	})
}
