package server

import (
	"net/http"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

var labelRE = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)

func TestTimingHeadersOnEveryChatResponse(t *testing.T) {
	up := newFakeOpenAI(t)
	gw, _ := startObserved(t, testConfig(dep(0, "m", "openai/m", up.base(), "k")), Options{})
	check := func(name string, r rawResponse, modelID string) {
		t.Helper()
		if r.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no x-request-id", name)
		}
		total, err1 := strconv.ParseFloat(r.Header.Get("X-Llmedge-Response-Duration-Ms"), 64)
		over, err2 := strconv.ParseFloat(r.Header.Get("X-Llmedge-Overhead-Duration-Ms"), 64)
		if err1 != nil || err2 != nil || total < 0 || over < 0 || over > total {
			t.Errorf("%s: durations %q %q", name, r.Header.Get("X-Llmedge-Response-Duration-Ms"), r.Header.Get("X-Llmedge-Overhead-Duration-Ms"))
		}
		if got := r.Header.Get("X-Llmedge-Model-Id"); got != modelID {
			t.Errorf("%s: model id %q, want %q", name, got, modelID)
		}
	}
	body := `{"model":"m","messages":[{"role":"user","content":"x"}]}`
	check("json", rawPost(t, gw, "/v1/chat/completions", body, testMasterKey), "m-0")
	check("stream", rawPost(t, gw, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`, testMasterKey), "m-0")
	check("401", rawPost(t, gw, "/v1/chat/completions", body, "nope"), "")
	// The client's request id is kept.
	r := rawRequest(t, gw, "POST", "/v1/chat/completions", body, "Authorization: Bearer "+testMasterKey, "X-Request-Id: client-id-42")
	if got := r.Header.Get("X-Request-Id"); got != "client-id-42" {
		t.Errorf("x-request-id = %q", got)
	}
	// Upstream time is not llmedge's overhead.
	up.setHandler(func(w http.ResponseWriter, r *http.Request, b []byte) {
		time.Sleep(60 * time.Millisecond)
		answerJSON("slow")(w, r, b)
	})
	r = rawPost(t, gw, "/v1/chat/completions", body, testMasterKey)
	total, _ := strconv.ParseFloat(r.Header.Get("X-Llmedge-Response-Duration-Ms"), 64)
	over, _ := strconv.ParseFloat(r.Header.Get("X-Llmedge-Overhead-Duration-Ms"), 64)
	if total < 60 || over > total-55 {
		t.Errorf("slow upstream: total %vms overhead %vms; the 60ms upstream wait must not count as overhead", total, over)
	}
}

// Time slept between attempts (Retry-After, backoff) is neither
// llmedge's overhead nor upstream time: it is reported as backoff_us.
func TestOverheadExcludesRetryWaits(t *testing.T) {
	up := newFakeOpenAI(t)
	var n atomic.Int32
	up.setHandler(func(w http.ResponseWriter, r *http.Request, b []byte) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After-Ms", "300")
			w.WriteHeader(429)
			_, _ = w.Write([]byte(`{"error":{"message":"slow down","type":"rate_limit_error"}}`))
			return
		}
		answerJSON("ok")(w, r, b)
	})
	gw, logs := startObserved(t, testConfig(dep(0, "m", "openai/m", up.base(), "k")), Options{ObserveOptions: ObserveOptions{AccessLog: true}})
	r := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if r.StatusCode != 200 || n.Load() != 2 {
		t.Fatalf("%d after %d attempts: %s", r.StatusCode, n.Load(), r.Body)
	}
	total, _ := strconv.ParseFloat(r.Header.Get("X-Llmedge-Response-Duration-Ms"), 64)
	over, _ := strconv.ParseFloat(r.Header.Get("X-Llmedge-Overhead-Duration-Ms"), 64)
	if total < 300 || over > total-290 {
		t.Errorf("total %vms overhead %vms: the 300ms Retry-After wait must not count as overhead", total, over)
	}
	m := regexp.MustCompile(`"backoff_us":(\d+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("access log has no backoff_us: %s", logs)
	}
	if us, _ := strconv.Atoi(m[1]); us < 290_000 {
		t.Errorf("backoff_us = %d, want >= 290000", us)
	}
}
