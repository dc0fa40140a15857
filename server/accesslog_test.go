package server

import (
	"regexp"
	"strings"
	"testing"
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
