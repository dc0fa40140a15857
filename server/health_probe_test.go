package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type healthAnswer struct {
	Healthy   []map[string]any `json:"healthy_endpoints"`
	Unhealthy []map[string]any `json:"unhealthy_endpoints"`
}

func getHealth(t *testing.T, gw *gateway, query string) healthAnswer {
	t.Helper()
	r := rawRequest(t, gw, "GET", "/health"+query, "", "Authorization: Bearer "+testMasterKey)
	if r.StatusCode != 200 {
		t.Fatalf("/health%s: %d %s", query, r.StatusCode, r.Body)
	}
	var h healthAnswer
	if err := json.Unmarshal([]byte(r.Body), &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// /health tells the truth: ?model= probes that model's deployments now
// (one GET of the OpenAI-compatible server's models each), and a deployment that failed every call is
// unhealthy (cooling down) without a probe.
func TestHealthProbesAndPassiveState(t *testing.T) {
	up := newFakeOpenAI(t)
	cfg := testConfig(dep(0, "good", "openai/gpt-4o", up.base(), "k"), dep(1, "dead", "openai/gpt-4o", "http://127.0.0.1:1/v1", "k"))
	gw := startGateway(t, cfg)

	h := getHealth(t, gw, "?model=dead")
	if len(h.Unhealthy) != 1 || len(h.Healthy) != 0 || !strings.Contains(h.Unhealthy[0]["error"].(string), "probe failed") {
		t.Fatalf("?model=dead: %+v", h)
	}
	h = getHealth(t, gw, "?model=good")
	if len(h.Healthy) != 1 || len(h.Unhealthy) != 0 || h.Healthy[0]["model"] != "good" {
		t.Fatalf("?model=good: %+v", h)
	}
	reqs := up.requests()
	if len(reqs) != 1 || reqs[0].Path != "/v1/models" || len(reqs[0].Body) != 0 {
		t.Fatalf("probe requests: %+v", reqs)
	}
	if r := rawRequest(t, gw, "GET", "/health?model=nope", "", "Authorization: Bearer "+testMasterKey); r.StatusCode != 404 {
		t.Errorf("?model=nope: %d", r.StatusCode)
	}

	// Passive: one call to the dead deployment (three attempts) fails;
	// its group of one never cools down, but /health says it failed.
	rawPost(t, gw, "/v1/chat/completions", `{"model":"dead","messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	h = getHealth(t, gw, "")
	if len(h.Unhealthy) != 1 || h.Unhealthy[0]["model"] != "dead" || !strings.Contains(h.Unhealthy[0]["error"].(string), "calls failed") {
		t.Fatalf("passive /health after failures: %+v", h)
	}
}

// background_health_checks probes every deployment at start and then
// once per health_check_interval, never more often; /health shows the
// results without ?model=.
func TestBackgroundHealthChecks(t *testing.T) {
	up := newFakeOpenAI(t)
	var calls atomic.Int32
	up.setHandler(func(w http.ResponseWriter, r *http.Request, b []byte) {
		if calls.Add(1) > 1 {
			w.WriteHeader(500)
			_, _ = w.Write([]byte(`{"error":{"message":"down","type":"server_error"}}`))
			return
		}
		answerJSON("ok")(w, r, b)
	})
	cfg := limitsConfig(map[string]any{"background_health_checks": true, "health_check_interval": 0.3}, dep(0, "m", "openai/gpt-4o", up.base(), "k"))
	start := time.Now()
	gw := startGateway(t, cfg)
	waitFor(t, 10*time.Second, "the first probe", func() bool { return calls.Load() >= 1 })
	waitFor(t, 10*time.Second, "the second probe's result in /health", func() bool {
		h := getHealth(t, gw, "")
		return len(h.Unhealthy) == 1 && strings.Contains(h.Unhealthy[0]["error"].(string), "probe failed")
	})
	// Probes at 0, 0.3, 0.6 s...: never more than one per interval.
	if n, max := calls.Load(), int32(time.Since(start)/(300*time.Millisecond))+1; n > max {
		t.Errorf("%d probes in %v: more than one per 0.3 s interval", n, time.Since(start))
	}
}
