package server

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/llmedge/llmedge/config"
)

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

// holdAfter writes events, flushes, then keeps the response open (no
// end of body) until the client goes away or hold passes.
func holdAfter(hold time.Duration, events ...string) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range events {
			fmt.Fprint(w, ev)
		}
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(hold):
		}
	}
}

// An upstream that sends [DONE] (or message_stop) and then holds the
// connection open must not hold the client's response open until
// stream_timeout: the answer is complete. The drain after the end used
// to read until EOF with the full stream_timeout per read (and forever
// if the upstream kept sending keep-alive comments).
func TestStreamEndsAtDoneWhenUpstreamHoldsOpen(t *testing.T) {
	up := newFakeOpenAI(t)
	chunk := `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}` + "\n\n"
	up.setHandler(holdAfter(20*time.Second, chunk, "data: [DONE]\n\n", ": keep-alive\n\n"))
	an := newFakeOpenAI(t)
	an.setHandler(holdAfter(20*time.Second,
		"event: message_start\ndata: "+anStart("claude", 3, 0, 0).data+"\n\n",
		"event: content_block_delta\ndata: "+anTextDelta(0, "hi").data+"\n\n",
		"event: message_delta\ndata: "+anMessageDelta("end_turn", 1).data+"\n\n",
		"event: message_stop\ndata: "+anStop.data+"\n\n"))
	gw := startGateway(t, testConfig(dep(0, "gpt", "openai/gpt-4o", up.base(), "sk-up"), anthropicDep(1, "claude", an)))
	for _, model := range []string{"gpt", "claude"} {
		req, _ := http.NewRequest("POST", gw.url()+"/v1/chat/completions",
			strings.NewReader(`{"model":"`+model+`","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+testMasterKey)
		start := time.Now()
		resp, err := (&http.Client{Timeout: 8 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: body not ended after %s: %v (%s)", model, time.Since(start), err, b)
		}
		if !strings.Contains(string(b), `"hi"`) || !strings.HasSuffix(string(b), "data: [DONE]\n\n") {
			t.Fatalf("%s: %s", model, b)
		}
	}
}

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

// A native /v1/messages call (Anthropic body, Anthropic answer expected)
// must not fall back to a group that does not speak Anthropic: the
// Anthropic body went to an OpenAI endpoint and its chat.completion
// answer came back to the Claude client as if it were a message.
func TestMessagesFallbackSkipsNonAnthropicGroups(t *testing.T) {
	an := newFakeOpenAI(t)
	an.setHandler(anthropicFail(500, "api_error", "Internal server error"))
	oa := newFakeOpenAI(t)
	cfg := testConfig(anthropicDep(0, "claude", an), dep(1, "gpt", "openai/gpt-4o", oa.base(), "sk-up"))
	setSettings(cfg, "router_settings", map[string]any{"fallbacks": []any{map[string]any{"claude": []any{"gpt"}}}, "num_retries": int64(0)})
	gw := startGateway(t, cfg)
	r := rawRequest(t, gw, "POST", "/v1/messages", `{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`, claudeHeaders()...)
	if n := len(oa.requests()); n != 0 {
		t.Fatalf("the Anthropic body was sent to the OpenAI group (%d requests); client got %d %s", n, r.StatusCode, r.Body)
	}
	if r.StatusCode == 200 || !strings.Contains(r.Body, `"type":"error"`) {
		t.Fatalf("want the Anthropic group's error, got %d %s", r.StatusCode, r.Body)
	}
}

// A redirect to another host drops the credentials: Authorization,
// api-key and x-api-key were dropped, but not the headers the
// deployment adds (extra_headers, such as Supermemory's
// x-supermemory-api-key) nor Bedrock's X-Amz-Security-Token (the
// temporary credentials' session token).
func TestCrossHostRedirectDropsDeploymentSecrets(t *testing.T) {
	to := newFakeOpenAI(t)
	from := newFakeOpenAI(t)
	from.setHandler(func(w http.ResponseWriter, r *http.Request, _ []byte) {
		http.Redirect(w, r, "http://"+to.ln.Addr().String()+r.URL.Path, http.StatusTemporaryRedirect)
	})
	oa := dep(0, "gpt", "openai/gpt-4o", from.base(), "sk-up")
	oa.ExtraHeaders = []config.Header{{Name: "X-Gateway-Secret", Value: "gateway-secret-value"}}
	br := bedrockDep(1, "nova", "bedrock/amazon.nova-lite-v1:0", "http://"+from.ln.Addr().String())
	br.Params["aws_session_token"] = "FwoGZXIvYXdzEXAMPLEsessiontoken"
	to.setHandler(func(w http.ResponseWriter, r *http.Request, b []byte) {
		if strings.Contains(r.URL.Path, "/converse") {
			converseText("hi", "end_turn")(w, "converse", nil)
			return
		}
		answerJSON("hi")(w, r, b)
	})
	gw := startGateway(t, testConfig(oa, br))
	for _, model := range []string{"gpt", "nova"} {
		r := rawRequest(t, gw, "POST", "/v1/chat/completions", `{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`,
			"Authorization: Bearer "+testMasterKey)
		if r.StatusCode != 200 {
			t.Fatalf("%s: %d %s", model, r.StatusCode, r.Body)
		}
	}
	for _, req := range to.requests() {
		for k, v := range req.Header {
			if s := strings.Join(v, ","); strings.Contains(s, "gateway-secret-value") || strings.Contains(s, "FwoGZXIvYXdz") {
				t.Errorf("%s: the redirect target got %s: %s", req.Path, k, s)
			}
		}
	}
	if len(to.requests()) != 2 {
		t.Fatalf("redirect target saw %d requests", len(to.requests()))
	}
}

// An upstream closes kept-alive connections after its own idle timeout
// (uvicorn, so vLLM and LiteLLM: 5 s; Node: 5 s), shorter than llmedge's
// 90 s. The next call took the dead connection from the pool and failed:
// a 503 "unreachable: EOF" with retries off, a retry with backoff with
// them on. Such a call is now sent again on another connection, which
// is then kept for reuse.
func TestStaleKeepAliveConnectionIsRetried(t *testing.T) {
	var mu sync.Mutex
	idle := map[net.Conn]bool{}
	var opened, closed, requests atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		b, _ := io.ReadAll(r.Body)
		answerJSON("hi")(w, r, b)
	})}
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch s {
		case http.StateNew:
			opened.Add(1)
		case http.StateIdle:
			idle[c] = true
		case http.StateActive:
			delete(idle, c)
		case http.StateClosed, http.StateHijacked:
			delete(idle, c)
			closed.Add(1)
		}
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	cfg := testConfig(dep(0, "gpt", "openai/gpt-4o", "http://"+ln.Addr().String()+"/v1", "sk-up"))
	setSettings(cfg, "router_settings", map[string]any{"num_retries": int64(0)})
	gw := startGateway(t, cfg)
	call := func() rawResponse {
		return rawRequest(t, gw, "POST", "/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":"hi"}]}`,
			"Authorization: Bearer "+testMasterKey)
	}
	if r := call(); r.StatusCode != 200 {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	// The upstream closes its idle connection, as its idle timeout would.
	waitFor(t, 5*time.Second, "the upstream connection to go idle", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for c := range idle {
			_ = c.Close()
			return true
		}
		return false
	})
	waitFor(t, 5*time.Second, "the close", func() bool { return closed.Load() == 1 })
	if r := call(); r.StatusCode != 200 {
		t.Fatalf("call on a stale pooled connection: %d %s", r.StatusCode, r.Body)
	}
	if r := call(); r.StatusCode != 200 {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	if n := opened.Load(); n != 2 {
		t.Errorf("%d upstream connections opened, want 2 (the one dialed after the stale one is kept)", n)
	}
	if n := requests.Load(); n != 3 {
		t.Errorf("upstream saw %d requests, want 3", n)
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

// A Responses API stream ends at its terminal event (response.completed)
// even when the upstream holds the connection open after it.
func TestResponsesStreamEndsAtCompletedWhenUpstreamHoldsOpen(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(holdAfter(20*time.Second,
		"event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"in_progress\",\"output\":[]}}\n\n",
		"event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":1,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"completed\",\"output\":[],\"usage\":{\"input_tokens\":3,\"output_tokens\":1,\"total_tokens\":4}}}\n\n"))
	gw := startGateway(t, testConfig(dep(0, "gpt", "openai/gpt-4o", up.base(), "sk-up")))
	req, _ := http.NewRequest("POST", gw.url()+"/v1/responses", strings.NewReader(`{"model":"gpt","stream":true,"input":"hi"}`))
	req.Header.Set("Authorization", "Bearer "+testMasterKey)
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
	if resp.StatusCode != 200 || !strings.Contains(string(b), "response.completed") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}
