package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Claude Code's request shape: model first, betas in a header, the key
// in x-api-key.
const claudeCodeBody = `{"model":"claude","max_tokens":32000,"system":[{"type":"text","text":"You are Claude Code.","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"hi \"there\""}]}],"tools":[{"name":"Bash","input_schema":{"type":"object"}}],"metadata":{"user_id":"u"}%s}`

func claudeHeaders(extra ...string) []string {
	return append([]string{"x-api-key: " + testMasterKey, "anthropic-version: 2023-06-01", "anthropic-beta: claude-code-20250219,interleaved-thinking-2025-05-14", "User-Agent: claude-cli/1.0.0 (external, cli)"}, extra...)
}

func TestMessagesPassThroughNonStream(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(anthropicJSON(`[{"type":"text","text":"Hello!"}]`, "end_turn", 10, 2, 0, 0))
	cfg := testConfig(anthropicDep(0, "claude", up))
	cfg.UserIDMappings = memoryMappings()
	cfg.UserIDMappings.HeaderPatterns = append(cfg.UserIDMappings.HeaderPatterns[:1:1], cfg.UserIDMappings.HeaderPatterns[1])
	cfg.UserIDMappings.HeaderPatterns[1].Pattern = "^claude-cli"
	gw := startGateway(t, cfg)
	body := fmt.Sprintf(claudeCodeBody, "")
	r := rawRequest(t, gw, "POST", "/v1/messages", body, claudeHeaders()...)
	if r.StatusCode != 200 {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	if !strings.HasPrefix(r.Body, `{"id":"msg_fake02","type":"message"`) || !strings.Contains(r.Body, `"text":"Hello!"`) {
		t.Errorf("answer not passed through: %s", r.Body)
	}
	if r.Header.Get("Anthropic-Ratelimit-Requests-Remaining") != "42" || r.Header.Get("Request-Id") != "req_fake" {
		t.Errorf("anthropic headers not relayed: %v", r.Header)
	}
	req := up.requests()[0]
	if want := strings.Replace(body, `"model":"claude"`, `"model":"claude-sonnet-4-5"`, 1); string(req.Body) != want {
		t.Errorf("body changed beyond model:\n got %s\nwant %s", req.Body, want)
	}
	h := req.Header
	if h.Get("X-Api-Key") != anthropicTestKey || h.Get("Anthropic-Version") != "2023-06-01" || h.Get("Anthropic-Beta") != "claude-code-20250219,interleaved-thinking-2025-05-14" {
		t.Errorf("upstream headers: %v", h)
	}
	if h.Get("X-Sm-User-Id") != "claude-code-cli" {
		t.Errorf("x-sm-user-id = %q", h.Get("X-Sm-User-Id"))
	}

	// Bearer auth works too (ANTHROPIC_AUTH_TOKEN), and count_tokens.
	up.setHandler(func(w http.ResponseWriter, r *http.Request, b []byte) {
		if !checkAnthropicRequest(w, r, b) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"input_tokens":2095}`)
	})
	r = rawRequest(t, gw, "POST", "/v1/messages/count_tokens", `{"model":"claude","messages":[{"role":"user","content":"x"}]}`, "Authorization: Bearer "+testMasterKey)
	if r.StatusCode != 200 || r.Body != `{"input_tokens":2095}` {
		t.Errorf("count_tokens: %d %s", r.StatusCode, r.Body)
	}
	if p := up.requests()[1].Path; p != "/v1/messages/count_tokens" {
		t.Errorf("count_tokens path = %q", p)
	}
}

func TestMessagesPassThroughStream(t *testing.T) {
	up := newFakeOpenAI(t)
	events := []anEvent{anStart("claude-sonnet-4-5", 3, 0, 0), anPing, anBlockStart(0, `{"type":"text","text":""}`),
		anTextDelta(0, "Hi"), anTextDelta(0, " there"), anBlockStop(0), anMessageDelta("end_turn", 2), anStop}
	var want strings.Builder
	for _, ev := range events {
		fmt.Fprintf(&want, "event: %s\ndata: %s\n\n", ev.name, ev.data)
	}
	up.setHandler(anthropicSSE(events...))
	gw := startGateway(t, testConfig(anthropicDep(0, "claude", up)))
	r := rawRequest(t, gw, "POST", "/v1/messages", fmt.Sprintf(claudeCodeBody, `,"stream":true`), claudeHeaders()...)
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %v", r.StatusCode, r.Header)
	}
	if r.Body != want.String() {
		t.Errorf("stream changed:\n got %q\nwant %q", r.Body, want.String())
	}
}

func TestMessagesStreamIsNotBuffered(t *testing.T) {
	up := newFakeOpenAI(t)
	gate := make(chan struct{})
	up.setHandler(func(w http.ResponseWriter, r *http.Request, b []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		ev := anStart("m", 1, 0, 0)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.name, ev.data)
		fl.Flush()
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		case <-time.After(10 * time.Second):
			return
		}
		fmt.Fprintf(w, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
	})
	gw := startGateway(t, testConfig(anthropicDep(0, "claude", up)))
	conn, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	writeRequest(t, conn, "POST", "/v1/messages", fmt.Sprintf(claudeCodeBody, `,"stream":true`), claudeHeaders()...)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	cr := bufio.NewReader(&chunkedReader{br: br})
	if ev := readEvent(t, conn, cr); !strings.Contains(ev, "event: message_start") {
		t.Fatalf("first event %q", ev)
	}
	close(gate)
	if ev := readEvent(t, conn, cr); !strings.Contains(ev, "message_stop") {
		t.Fatalf("after gate %q", ev)
	}
}

func TestMessagesErrorsAreAnthropicShaped(t *testing.T) {
	an := newFakeOpenAI(t)
	an.setHandler(anthropicFail(529, "overloaded_error", "Overloaded"))
	oa := newFakeOpenAI(t)
	oa.setHandler(func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		fmt.Fprint(w, `{"error":{"message":"max_tokens is too large","type":"invalid_request_error","param":"max_tokens","code":null}}`)
	})
	gw := startGateway(t, testConfig(anthropicDep(0, "claude", an), dep(1, "gpt", "openai/gpt-4o", oa.base(), "k")))
	body := `{"model":"%s","max_tokens":10,"messages":[{"role":"user","content":"x"}]}`
	cases := []struct {
		model   string
		headers []string
		status  int
		typ     string
	}{
		{"claude", claudeHeaders(), 529, "overloaded_error"},
		{"gpt", claudeHeaders(), 400, "invalid_request_error"}, // translated; the fake refuses (below)
		{"nope", claudeHeaders(), 404, "not_found_error"},
		{"claude", []string{"x-api-key: wrong"}, 401, "authentication_error"},
	}
	for _, c := range cases {
		r := rawRequest(t, gw, "POST", "/v1/messages", fmt.Sprintf(body, c.model), c.headers...)
		if r.StatusCode != c.status || !strings.HasPrefix(r.Body, `{"type":"error","error":{"type":"`+c.typ+`"`) {
			t.Errorf("%s: %d %s", c.model, r.StatusCode, r.Body)
		}
	}
	if r := rawRequest(t, gw, "POST", "/v1/messages", `{"max_tokens":1}`, claudeHeaders()...); r.StatusCode != 400 || !strings.Contains(r.Body, "model") {
		t.Errorf("missing model: %d %s", r.StatusCode, r.Body)
	}
	// The OpenAI deployment's error reaches the Claude client in
	// Anthropic's shape, its message kept.
	if r := rawRequest(t, gw, "POST", "/v1/messages", fmt.Sprintf(body, "gpt"), claudeHeaders()...); !strings.Contains(r.Body, "max_tokens is too large") {
		t.Errorf("upstream message lost: %s", r.Body)
	}
	// A stream whose first event is an error: Anthropic's document, its status.
	an.setHandler(anthropicSSE(anEvent{"error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`}))
	r := rawRequest(t, gw, "POST", "/v1/messages", `{"model":"claude","stream":true,"max_tokens":10,"messages":[{"role":"user","content":"x"}]}`, claudeHeaders()...)
	if r.StatusCode != 529 || r.Body != `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}` {
		t.Errorf("first-event error: %d %s", r.StatusCode, r.Body)
	}
}

// The errors llmedge itself answers on /v1/messages (the upstream never
// answered, or was not called) are Anthropic-shaped too, with the type
// Anthropic gives their status and the Retry-After of a 429.
func TestMessagesGatewayErrorsAreAnthropicShaped(t *testing.T) {
	slow, held, limited := newFakeOpenAI(t), newFakeOpenAI(t), newFakeOpenAI(t)
	slow.setHandler(func(w http.ResponseWriter, r *http.Request, b []byte) {
		select { // slower than the deployment's timeout: the behaviour under test
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	release := make(chan struct{})
	defer close(release)
	held.setHandler(func(w http.ResponseWriter, r *http.Request, b []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	limited.setHandler(anthropicJSON("hi", "end_turn", 1, 1, 0, 0))

	timeout := anthropicDep(0, "slow", slow)
	timeout.Timeout = 200 * time.Millisecond
	unavailable := anthropicDep(1, "unset", limited)
	unavailable.MissingEnv = []string{"ANTHROPIC_API_KEY"}
	busy := anthropicDep(2, "busy", held)
	busy.MaxParallel = 1
	rpm := anthropicDep(3, "rpm", limited)
	rpm.RPM = 1
	cfg := testConfig(timeout, unavailable, busy, rpm)
	setSettings(cfg, "router_settings", map[string]any{"num_retries": 0, "max_retry_wait_seconds": 0.2})
	gw := startGateway(t, cfg)

	ask := func(model string, stream bool) rawResponse {
		return rawRequest(t, gw, "POST", "/v1/messages", fmt.Sprintf(`{"model":%q,"stream":%v,"max_tokens":10,"messages":[{"role":"user","content":"x"}]}`, model, stream), claudeHeaders()...)
	}
	// retryAfter "*" is any Retry-After, "" none.
	check := func(what string, r rawResponse, status int, typ, retryAfter, says string) {
		t.Helper()
		ra := r.Header.Get("Retry-After")
		raOK := ra == retryAfter || (retryAfter == "*" && ra != "")
		if r.StatusCode != status || !strings.HasPrefix(r.Body, `{"type":"error","error":{"type":"`+typ+`","message":"`) ||
			!strings.Contains(r.Body, says) || !raOK {
			t.Errorf("%s: %d (Retry-After %q) %s", what, r.StatusCode, r.Header.Get("Retry-After"), r.Body)
		}
	}

	check("upstream timeout", ask("slow", false), 408, "timeout_error", "", "")
	check("deployment unavailable", ask("unset", false), 503, "overloaded_error", "", "ANTHROPIC_API_KEY is not set")

	// One stream holds the deployment's only slot; the next call waits
	// max_retry_wait_seconds for it, then gets 429.
	conn, err := net.Dial("tcp", gw.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	writeRequest(t, conn, "POST", "/v1/messages", `{"model":"busy","stream":true,"max_tokens":10,"messages":[{"role":"user","content":"x"}]}`, claudeHeaders()...)
	waitFor(t, 5*time.Second, "the stream to hold the slot", func() bool { return len(held.requests()) == 1 })
	check("max_parallel_requests", ask("busy", false), 429, "rate_limit_error", "1", "max_parallel_requests")

	// The deployment's rpm is used up: 429 until the next minute.
	if r := ask("rpm", false); r.StatusCode != 200 {
		t.Fatalf("first call under rpm 1: %d %s", r.StatusCode, r.Body)
	}
	check("rpm used up", ask("rpm", true), 429, "rate_limit_error", "*", "rpm/tpm limit")
}

// A wildcard anthropic/* deployment on the native /v1/messages route must
// send the client's body with only "model" replaced. The body used to be
// built with SetBodyRaw over the request's own pooled buffer followed by
// AppendBody, which dropped everything before the model (and handed a
// buffer still in use back to fasthttp's pool).
func TestMessagesWildcardBodyIntact(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(anthropicJSON(`[{"type":"text","text":"Hello!"}]`, "end_turn", 10, 2, 0, 0))
	d := dep(0, "claude-*", "anthropic/*", "http://"+up.ln.Addr().String(), anthropicTestKey)
	gw := startGateway(t, testConfig(d))
	body := strings.Replace(fmt.Sprintf(claudeCodeBody, ""), `"model":"claude"`, `"model":"claude-opus-4"`, 1)
	for i := 0; i < 3; i++ {
		r := rawRequest(t, gw, "POST", "/v1/messages", body, claudeHeaders()...)
		if r.StatusCode != 200 {
			t.Fatalf("%d %s", r.StatusCode, r.Body)
		}
		got := string(up.requests()[i].Body)
		if want := strings.Replace(body, `"model":"claude-opus-4"`, `"model":"opus-4"`, 1); got != want {
			t.Fatalf("upstream body:\n got %s\nwant %s", got, want)
		}
	}
}

// A /v1/messages call falling back to a group that does not speak
// Anthropic is translated there: the OpenAI group gets a chat request,
// the Claude client an Anthropic message.
func TestMessagesFallbackTranslatesForNonAnthropicGroups(t *testing.T) {
	an := newFakeOpenAI(t)
	an.setHandler(anthropicFail(500, "api_error", "Internal server error"))
	oa := newFakeOpenAI(t)
	cfg := testConfig(anthropicDep(0, "claude", an), dep(1, "gpt", "openai/gpt-4o", oa.base(), "sk-up"))
	setSettings(cfg, "router_settings", map[string]any{"fallbacks": []any{map[string]any{"claude": []any{"gpt"}}}, "num_retries": int64(0)})
	gw := startGateway(t, cfg)
	r := rawRequest(t, gw, "POST", "/v1/messages", `{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`, claudeHeaders()...)
	reqs := oa.requests()
	if len(reqs) != 1 || !strings.Contains(string(reqs[0].Body), `"messages":[{"role":"user","content":"hi"}]`) || !strings.Contains(string(reqs[0].Body), `"max_completion_tokens":10`) {
		t.Fatalf("the OpenAI group got %d requests: %v", len(reqs), reqs)
	}
	if r.StatusCode != 200 || !strings.Contains(r.Body, `"type":"message"`) || !strings.Contains(r.Body, `"model":"gpt"`) {
		t.Fatalf("want an Anthropic message, got %d %s", r.StatusCode, r.Body)
	}
}

// The native /v1/messages stream ends at message_stop too: an upstream
// that holds the connection open after it must not hold the Claude
// client's response open until stream_timeout.
func TestMessagesStreamEndsAtMessageStopWhenUpstreamHoldsOpen(t *testing.T) {
	an := newFakeOpenAI(t)
	an.setHandler(holdAfter(20*time.Second,
		"event: message_start\ndata: "+anStart("claude", 3, 0, 0).data+"\n\n",
		"event: content_block_delta\ndata: "+anTextDelta(0, "hi").data+"\n\n",
		"event: message_delta\ndata: "+anMessageDelta("end_turn", 1).data+"\n\n",
		"event: message_stop\ndata: "+anStop.data+"\n\n"))
	gw := startGateway(t, testConfig(anthropicDep(0, "claude", an)))
	req, _ := http.NewRequest("POST", gw.url()+"/v1/messages",
		strings.NewReader(`{"model":"claude","stream":true,"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`))
	for _, h := range claudeHeaders() {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	start := time.Now()
	resp, err := (&http.Client{Timeout: 8 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("body not ended after %s: %v (%s)", time.Since(start), err, b)
	}
	if !strings.HasSuffix(string(b), "event: message_stop\ndata: "+anStop.data+"\n\n") {
		t.Fatalf("%s", b)
	}
}
