package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// An upstream error body that is not JSON is quoted in the message, cut
// at 512 bytes: the cut may split a UTF-8 sequence (or the body may not
// be UTF-8 at all). The client's error document must still be valid
// JSON text, i.e. valid UTF-8.
func TestUpstreamErrorMessageStaysUTF8(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(400)
		fmt.Fprint(w, "x"+strings.Repeat("é", 300)+"\xff")
	})
	gw := startGateway(t, testConfig(dep(0, "gpt", "openai/gpt-4o", up.base(), "sk-up")))
	r := rawRequest(t, gw, "POST", "/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":"hi"}]}`,
		"Authorization: Bearer "+testMasterKey)
	if r.StatusCode != 400 {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	if !utf8.ValidString(r.Body) {
		t.Fatalf("error body is not valid UTF-8: %q", r.Body[len(r.Body)-60:])
	}
}

// A deployment that asked (Retry-After) not to be called for longer than
// max_retry_wait_seconds is not called: the next call gets 429 at once,
// saying when to come back, instead of waiting past the cap.
func TestRetryAfterLongerThanMaxRetryWait(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(429)
		fmt.Fprint(w, `{"error":{"message":"slow down","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}}`)
	})
	cfg := testConfig(dep(0, "gpt", "openai/gpt-4o", up.base(), "sk-up"))
	setSettings(cfg, "router_settings", map[string]any{"num_retries": 2, "max_retry_wait_seconds": 1})
	gw := startGateway(t, cfg)
	body := `{"model":"gpt","messages":[{"role":"user","content":"hi"}]}`
	if r := rawPost(t, gw, "/v1/chat/completions", body, testMasterKey); r.StatusCode != 429 || !strings.Contains(r.Body, "slow down") {
		t.Fatalf("the upstream's own 429: %d %s", r.StatusCode, r.Body)
	}
	start := time.Now()
	r := rawPost(t, gw, "/v1/chat/completions", body, testMasterKey)
	// llmedge honours an upstream's Retry-After for at most a minute.
	ra := r.Header.Get("Retry-After")
	if r.StatusCode != 429 || !strings.Contains(r.Body, `asked to be called again in `+ra+`s"`) || !strings.Contains(r.Body, `"code":"rate_limit_exceeded"`) {
		t.Fatalf("wait too long: %d (Retry-After %q) %s", r.StatusCode, ra, r.Body)
	}
	if n, _ := strconv.Atoi(ra); n < 59 || n > 60 {
		t.Errorf("Retry-After %q, want the minute llmedge honours less the time passed", ra)
	}
	if took := time.Since(start); took > 900*time.Millisecond {
		t.Errorf("the call waited %s before refusing", took)
	}
	if n := len(up.requests()); n != 1 {
		t.Errorf("upstream called %d times, want once", n)
	}
}
