package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// modelsList is OpenAI's "List models" answer.
const modelsList = `{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"}]}`

// A probe's outcome is in /metrics: the deployment's health, the last
// probe's duration and time, probes by method and failures by a fixed
// class; never the key or the upstream's words.
func TestHealthProbesInMetrics(t *testing.T) {
	const upKey = "sk-upstream-secret-0123456789"
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, b []byte) {
		if r.Method != "GET" || r.URL.Path != "/v1/models" {
			w.WriteHeader(400)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+upKey {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"error":{"message":"Incorrect API key provided: sk-wrong-key-987654. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","code":"invalid_api_key"}}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(modelsList))
	})
	cfg := testConfig(
		dep(0, "good", "openai/gpt-4o", up.base(), upKey),
		dep(1, "badkey", "openai/gpt-4o", up.base(), "sk-wrong-key-987654"),
		dep(2, "dead", "openai/gpt-4o", "http://127.0.0.1:1/v1", upKey),
	)
	missing := dep(3, "noenv", "openai/gpt-4o", "", "")
	missing.MissingEnv = []string{"NOENV_KEY"}
	cfg.Deployments = append(cfg.Deployments, missing)
	gw := startGateway(t, cfg)

	m := scrape(t, gw)
	for k := range m {
		if strings.HasPrefix(k, "llmedge_deployment_healthy") || strings.HasPrefix(k, "llmedge_health_probe") {
			t.Fatalf("probe series before any probe: %s", k)
		}
	}
	for _, model := range []string{"good", "badkey", "dead", "noenv", "good"} {
		getHealth(t, gw, "?model="+model)
	}
	m = scrape(t, gw)
	l := func(model string, i int) string {
		return `model_name="` + model + `",deployment="` + model + `-` + string(rune('0'+i)) + `"`
	}
	wantSeries(t, m, `llmedge_deployment_healthy{`+l("good", 0)+`}`, 1)
	wantSeries(t, m, `llmedge_deployment_healthy{`+l("badkey", 1)+`}`, 0)
	wantSeries(t, m, `llmedge_deployment_healthy{`+l("dead", 2)+`}`, 0)
	wantSeries(t, m, `llmedge_deployment_healthy{`+l("noenv", 3)+`}`, 0)
	wantSeries(t, m, `llmedge_health_probes_total{`+l("good", 0)+`,method="models"}`, 2)
	wantSeries(t, m, `llmedge_health_probes_total{`+l("noenv", 3)+`,method="none"}`, 1)
	wantSeries(t, m, `llmedge_health_probe_failures_total{`+l("badkey", 1)+`,class="auth"}`, 1)
	wantSeries(t, m, `llmedge_health_probe_failures_total{`+l("dead", 2)+`,class="unreachable"}`, 1)
	wantSeries(t, m, `llmedge_health_probe_failures_total{`+l("noenv", 3)+`,class="unavailable"}`, 1)
	if _, ok := m[`llmedge_health_probe_failures_total{`+l("good", 0)+`,class="auth"}`]; ok {
		t.Error("a failure counted for the healthy deployment")
	}
	if d, ok := m[`llmedge_health_probe_duration_seconds{`+l("good", 0)+`}`]; !ok || d <= 0 || d > 10 {
		t.Errorf("last probe duration of good: %v (present %v)", d, ok)
	}
	if ts := m[`llmedge_health_probe_timestamp_seconds{`+l("dead", 2)+`}`]; time.Since(time.Unix(int64(ts), 0)) > time.Minute {
		t.Errorf("last probe time of dead: %v", ts)
	}

	body := rawRequest(t, gw, "GET", "/metrics", "").Body
	for _, leak := range []string{upKey, "sk-wrong-key", "Incorrect API key", "127.0.0.1:1"} {
		if strings.Contains(body, leak) {
			t.Errorf("/metrics contains %q", leak)
		}
	}
	for _, fam := range []string{"llmedge_deployment_healthy", "llmedge_health_probe_duration_seconds", "llmedge_health_probe_timestamp_seconds",
		"llmedge_health_probes_total", "llmedge_health_probe_failures_total"} {
		if !strings.Contains(body, "# HELP "+fam+" ") || strings.Contains(body, "# HELP "+fam+" \n") {
			t.Errorf("%s has no help text", fam)
		}
	}
}

// The background checks' results are in the metrics too, and
// disable_background_health_check leaves a deployment out of them.
func TestBackgroundProbesInMetrics(t *testing.T) {
	up := newFakeOpenAI(t)
	var calls atomic.Int32
	up.setHandler(func(w http.ResponseWriter, r *http.Request, b []byte) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(503)
		_, _ = w.Write([]byte(`{"error":{"message":"overloaded","type":"server_error"}}`))
	})
	cfg := parseYAML(t, `
model_list:
  - model_name: m
    litellm_params: {model: openai/gpt-4o, api_base: `+up.base()+`, api_key: sk-x}
  - model_name: skipped
    litellm_params: {model: openai/gpt-4o, api_base: `+up.base()+`, api_key: sk-x}
    model_info: {disable_background_health_check: true}
general_settings:
  master_key: `+testMasterKey+`
  background_health_checks: true
  health_check_interval: 3600
`)
	gw := startGateway(t, cfg)
	waitFor(t, 10*time.Second, "the first background round in /metrics", func() bool {
		_, ok := scrape(t, gw)[`llmedge_health_probe_failures_total{model_name="m",deployment="m-0",class="server_error"}`]
		return ok
	})
	m := scrape(t, gw)
	wantSeries(t, m, `llmedge_deployment_healthy{model_name="m",deployment="m-0"}`, 0)
	if _, ok := m[`llmedge_deployment_healthy{model_name="skipped",deployment="skipped-1"}`]; ok || calls.Load() != 1 {
		t.Errorf("disable_background_health_check: the deployment was probed (%d upstream calls)", calls.Load())
	}
	// ?model= serves the background result: no probe of its own.
	for range 3 {
		if h := getHealth(t, gw, "?model=m"); len(h.Unhealthy) != 1 {
			t.Fatalf("?model=m: %+v", h)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("?model= probed again despite background checks: %d upstream calls", n)
	}
	// A deployment the background leaves out is probed on request.
	if h := getHealth(t, gw, "?model=skipped"); len(h.Unhealthy) != 1 || calls.Load() != 2 {
		t.Errorf("?model=skipped: %+v, %d calls", h, calls.Load())
	}
}

// Concurrent /health?model= requests share one probe per deployment.
func TestConcurrentProbesShareOneCall(t *testing.T) {
	up := newFakeOpenAI(t)
	release := make(chan struct{})
	var calls atomic.Int32
	up.setHandler(func(w http.ResponseWriter, r *http.Request, b []byte) {
		calls.Add(1)
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(modelsList))
	})
	gw := startGateway(t, testConfig(dep(0, "m", "openai/gpt-4o", up.base(), "k")))
	type answer struct {
		status int
		body   string
		err    error
	}
	done := make(chan answer, 3)
	for range 3 {
		go func() {
			req, _ := http.NewRequest("GET", gw.url()+"/health?model=m", nil)
			req.Header.Set("Authorization", "Bearer "+testMasterKey)
			resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
			if err != nil {
				done <- answer{err: err}
				return
			}
			b, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			done <- answer{resp.StatusCode, string(b), err}
		}()
	}
	d := gw.reg.Lookup([]byte("m")).Deployments[0]
	waitFor(t, 10*time.Second, "two requests waiting on the first one's probe", func() bool {
		p := &gw.srv.current().probes
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.calls[d] != nil && p.calls[d].joined == 2
	})
	close(release)
	for range 3 {
		select {
		case a := <-done:
			var h healthAnswer
			if a.err != nil || a.status != 200 || json.Unmarshal([]byte(a.body), &h) != nil || len(h.Healthy) != 1 {
				t.Errorf("/health?model=m: %d %v %s", a.status, a.err, a.body)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a /health request did not finish")
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d upstream probes for 3 concurrent /health?model= requests, want 1", n)
	}
}

// A reload's background loop waits for the interval since the last
// round began: a reload never makes the probes more frequent.
func TestFirstRoundDelay(t *testing.T) {
	now := time.Unix(1000, 0)
	for _, c := range []struct {
		last  int64
		every time.Duration
		want  time.Duration
	}{
		{0, time.Minute, 0},
		{now.Add(-10 * time.Second).UnixNano(), time.Minute, 50 * time.Second},
		{now.Add(-2 * time.Minute).UnixNano(), time.Minute, 0},
	} {
		if got := firstRoundDelay(c.last, c.every, now); got != c.want {
			t.Errorf("firstRoundDelay(%d, %v) = %v, want %v", c.last, c.every, got, c.want)
		}
	}
}
