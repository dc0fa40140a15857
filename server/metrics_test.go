package server

import (
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A stream request that the upstream refused before its first event is
// still a stream request: it was counted under stream="false" because
// the label followed the answer's shape, not the request.
func TestFailedStreamRequestCountedAsStream(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}`))
	})
	gw, _ := startObserved(t, testConfig(dep(0, "m", "openai/m", up.base(), "k")), Options{})
	r := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`, testMasterKey)
	if r.StatusCode != 400 {
		t.Fatalf("status %d: %s", r.StatusCode, r.Body)
	}
	waitFor(t, 3*time.Second, "request finished", func() bool { return gw.srv.InFlight() == 0 })
	m := scrape(t, gw)
	dl := `model_name="m",deployment="m-0"`
	wantSeries(t, m, `llmedge_requests_total{`+dl+`,status="4xx",stream="true"}`, 1)
	if _, ok := m[`llmedge_requests_total{`+dl+`,status="4xx",stream="false"}`]; ok {
		t.Error(`the failed stream request was counted under stream="false"`)
	}
	wantSeries(t, m, `llmedge_streams_open`, 0)
}

// process_open_fds and process_max_fds are what the Prometheus client's
// process collector exposes and what fd-exhaustion alerts query.
func TestMetricsExposeProcessFDs(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/self/fd is Linux's")
	}
	gw, _ := startObserved(t, testConfig(dep(0, "m", "mock/m", "", "")), Options{})
	m := scrape(t, gw)
	if m["process_open_fds"] < 3 {
		t.Errorf("process_open_fds = %v (present: %v)", m["process_open_fds"], hasSeries(m, "process_open_fds"))
	}
	if m["process_max_fds"] < m["process_open_fds"] {
		t.Errorf("process_max_fds = %v", m["process_max_fds"])
	}
}

func hasSeries(m map[string]float64, s string) bool { _, ok := m[s]; return ok }

// Every llmedge metric family says what it measures: an empty # HELP
// line tells the reader of a dashboard nothing.
func TestEveryLlmedgeMetricHasHelp(t *testing.T) {
	gw, _ := startObserved(t, testConfig(dep(0, "m", "mock/m", "", "")), Options{})
	// Traffic that creates the lazily made series: a success, a stream,
	// a refusal, a reload is not needed (its counters exist from start).
	rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, testMasterKey)
	rawPost(t, gw, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`, testMasterKey)
	rawPost(t, gw, "/v1/chat/completions", `{"model":"m"}`, "sk-wrong")
	waitFor(t, 3*time.Second, "requests finished", func() bool { return gw.srv.InFlight() == 0 })
	body := rawRequest(t, gw, "GET", "/metrics", "").Body
	types := map[string]bool{}
	help := map[string]string{}
	for _, line := range strings.Split(body, "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, _, _ = strings.Cut(name, " ")
			types[name] = true
		}
		if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
			name, text, _ := strings.Cut(rest, " ")
			help[name] = strings.TrimSpace(text)
		}
	}
	n := 0
	for name := range types {
		if !strings.HasPrefix(name, "llmedge_") {
			continue
		}
		n++
		if help[name] == "" {
			t.Errorf("%s has no help text", name)
		}
	}
	if n < 8 {
		t.Fatalf("only %d llmedge families exposed:\n%s", n, body)
	}
}
