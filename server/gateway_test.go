package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"github.com/openai/openai-go/v3"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
)

func TestSDKNonStreamPassThrough(t *testing.T) {
	up := newFakeOpenAI(t)
	d := dep(0, "gpt-4o", "openai/gpt-4o-2024-08-06", up.base(), "sk-upstream-secret")
	d.ExtraHeaders = []config.Header{{Name: "X-Team", Value: "edge"}}
	gw := startGateway(t, testConfig(d))
	client := sdk(gw, testMasterKey)

	p := userMsg("hi")
	p.Model = "gpt-4o"
	p.Temperature = openai.Float(0.25)
	comp, err := client.Chat.Completions.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if got := comp.Choices[0].Message.Content; got != "Hello from the fake upstream." {
		t.Fatalf("content = %q", got)
	}
	if comp.Usage.TotalTokens != 11 {
		t.Fatalf("usage not relayed: %+v", comp.Usage)
	}
	reqs := up.requests()
	if len(reqs) != 1 {
		t.Fatalf("upstream saw %d requests", len(reqs))
	}
	r := reqs[0]
	if r.Path != "/v1/chat/completions" {
		t.Errorf("path = %q", r.Path)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer sk-upstream-secret" {
		t.Errorf("upstream Authorization = %q, want the deployment key, never the client's", got)
	}
	if got := r.Header.Get("X-Team"); got != "edge" {
		t.Errorf("extra header = %q", got)
	}
	if r.Header.Get("X-Request-Id") == "" {
		t.Error("upstream got no x-request-id")
	}
	if got := upstreamModel(r.Body); got != "gpt-4o-2024-08-06" {
		t.Errorf("upstream model = %q", got)
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("upstream body is not JSON: %v", err)
	}
	if m["temperature"] != 0.25 {
		t.Errorf("temperature not forwarded: %v", m["temperature"])
	}
}

func TestPassThroughKeepsEveryOtherByte(t *testing.T) {
	up := newFakeOpenAI(t)
	gw := startGateway(t, testConfig(dep(0, "m", "openai/up-model", up.base(), "k")))
	body := `{ "messages":[{"role":"user","content":"x \"q\" \u00e9"}], "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],
  "model" : "m", "response_format":{"type":"json_object"}, "unknown_field": [1,2,{"a":null}] }`
	resp := rawPost(t, gw, "/v1/chat/completions", body, testMasterKey)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
	}
	got := string(up.requests()[0].Body)
	want := strings.Replace(body, `"m"`, `"up-model"`, 1)
	if got != want {
		t.Fatalf("upstream body changed beyond model:\n got %s\nwant %s", got, want)
	}
}

func TestSDKStream(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(streamWords([]string{"one", "two", "three"}, 0, nil))
	gw := startGateway(t, testConfig(dep(0, "gpt-4o", "openai/gpt-4o", up.base(), "k")))
	client := sdk(gw, testMasterKey)
	p := userMsg("count")
	p.Model = "gpt-4o"
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	acc := openai.ChatCompletionAccumulator{}
	n := 0
	for stream.Next() {
		acc.AddChunk(stream.Current())
		n++
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if got := acc.Choices[0].Message.Content; got != "one two three" {
		t.Fatalf("content = %q", got)
	}
	if n != 5 {
		t.Fatalf("chunks = %d, want 5", n)
	}
}

func TestStreamHeadersAndDone(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(streamWords([]string{"a"}, 0, nil))
	gw := startGateway(t, testConfig(dep(0, "m", "openai/m", up.base(), "k")))
	resp := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for k, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no", "X-Llmedge-Model-Id": "m-0"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !strings.HasSuffix(resp.Body, "data: [DONE]\n\n") {
		t.Errorf("stream does not end with [DONE]: %q", resp.Body)
	}
}

func TestSDKModelsList(t *testing.T) {
	gw := startGateway(t, testConfig(dep(0, "a", "mock/x", "", ""), dep(1, "b", "mock/y", "", ""), dep(2, "a", "mock/z", "", "")))
	client := sdk(gw, testMasterKey)
	page, err := client.Models.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
		if m.Object != "model" {
			t.Errorf("object = %q", m.Object)
		}
	}
	if strings.Join(ids, ",") != "a,b" {
		t.Fatalf("models = %v, want one entry per model_name", ids)
	}
}

func TestSDKErrors(t *testing.T) {
	gw := startGateway(t, testConfig(dep(0, "demo", "mock/demo", "", "")))
	cases := []struct {
		name, key, model string
		status           int
		code             string
	}{
		{"wrong key is 401", "sk-wrong", "demo", 401, "invalid_api_key"},
		{"no key is 401", "", "demo", 401, "invalid_api_key"},
		{"unknown model is 404 model_not_found", testMasterKey, "nope", 404, "model_not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := userMsg("hi")
			p.Model = tc.model
			c := sdk(gw, tc.key)
			_, err := c.Chat.Completions.New(context.Background(), p)
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *openai.Error", err)
			}
			if apiErr.StatusCode != tc.status || apiErr.Code != tc.code {
				t.Fatalf("status %d code %q, want %d %q", apiErr.StatusCode, apiErr.Code, tc.status, tc.code)
			}
		})
	}
}

func TestAuthHeaders(t *testing.T) {
	gw := startGateway(t, testConfig(dep(0, "demo", "mock/demo", "", "")))
	body := `{"model":"demo","messages":[{"role":"user","content":"x"}]}`
	for _, h := range []string{"Authorization: Bearer " + testMasterKey, "x-api-key: " + testMasterKey, "api-key: " + testMasterKey} {
		resp := rawRequest(t, gw, "POST", "/v1/chat/completions", body, h)
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d", strings.SplitN(h, ":", 2)[0], resp.StatusCode)
		}
	}
}

func TestMockProvider(t *testing.T) {
	d := dep(0, "demo", "mock/demo", "", "")
	d.MockResponse, d.HasMockResponse = "Hi there, I am a mock.", true
	gw := startGateway(t, testConfig(d))
	client := sdk(gw, testMasterKey)
	p := userMsg("hi")
	p.Model = "demo"
	comp, err := client.Chat.Completions.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if comp.Choices[0].Message.Content != "Hi there, I am a mock." || comp.Model != "demo" {
		t.Fatalf("got %+v", comp)
	}
	p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	acc := openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if acc.Choices[0].Message.Content != "Hi there, I am a mock." || acc.Usage.CompletionTokens == 0 {
		t.Fatalf("stream got %q usage %+v", acc.Choices[0].Message.Content, acc.Usage)
	}
}

// The client must hold chunk 1 while the upstream still waits to send
// chunk 2: nothing is buffered.
func TestStreamIsNotBuffered(t *testing.T) {
	up := newFakeOpenAI(t)
	gate := make(chan struct{})
	up.setHandler(streamWords([]string{"first", "second"}, 0, gate))
	gw := startGateway(t, testConfig(dep(0, "m", "openai/m", up.base(), "k")))
	conn, br := rawStreamOpen(t, gw, `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`)
	defer conn.Close()
	// Role chunk and "first" arrive while the upstream is blocked.
	for _, want := range []string{`"role":"assistant"`, `"content":"first `} {
		ev := readEvent(t, conn, br)
		if !strings.Contains(ev, want) {
			t.Fatalf("event %q lacks %s", ev, want)
		}
	}
	close(gate)
	ev := readEvent(t, conn, br)
	if !strings.Contains(ev, `"content":"second"`) {
		t.Fatalf("after the gate: %q", ev)
	}
}

// A client that disconnects mid-stream makes llmedge close its upstream
// request promptly.
func TestClientDisconnectMidStreamClosesUpstream(t *testing.T) {
	up := newFakeOpenAI(t)
	gate := make(chan struct{}) // never opened: the upstream waits forever
	up.setHandler(streamWords([]string{"first", "second"}, 0, gate))
	gw := startGateway(t, testConfig(dep(0, "m", "openai/m", up.base(), "k")))
	conn, br := rawStreamOpen(t, gw, `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`)
	readEvent(t, conn, br)
	readEvent(t, conn, br)
	conn.Close()
	select {
	case <-up.closed:
	case <-time.After(3 * time.Second):
		t.Fatal("upstream did not see the close within 3s")
	}
	waitFor(t, 3*time.Second, "in-flight back to 0", func() bool { return gw.srv.InFlight() == 0 })
}

// A client that disconnects while llmedge waits for upstream headers
// (non-stream) cancels the upstream call too.
func TestClientDisconnectWhileWaitingClosesUpstream(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	gw := startGateway(t, testConfig(dep(0, "m", "openai/m", up.base(), "k")))
	conn, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	writeRequest(t, conn, "POST", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, "Authorization: Bearer "+testMasterKey)
	waitFor(t, 3*time.Second, "upstream to receive the request", func() bool { return len(up.requests()) == 1 })
	conn.Close()
	select {
	case <-up.closed:
	case <-time.After(3 * time.Second):
		t.Fatal("upstream did not see the close within 3s")
	}
	waitFor(t, 3*time.Second, "in-flight back to 0", func() bool { return gw.srv.InFlight() == 0 })
}

// An upstream that dies mid-stream yields an SSE error event and a clean
// end (terminated chunked body, [DONE]).
func TestUpstreamFailureMidStream(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"par\"},\"finish_reason\":null}]}\n\ndata: {\"trunc")
		w.(http.Flusher).Flush()
		hj, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			hj.Close()
		}
	})
	gw := startGateway(t, testConfig(dep(0, "m", "openai/m", up.base(), "k")))
	resp := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if !strings.Contains(resp.Body, `"content":"par"`) {
		t.Fatalf("first chunk missing: %q", resp.Body)
	}
	if !strings.Contains(resp.Body, `data: {"error":{"message":`) || !strings.HasSuffix(resp.Body, "data: [DONE]\n\n") {
		t.Fatalf("no error event and clean end: %q", resp.Body)
	}
	if strings.Contains(resp.Body, "trunc") {
		t.Fatalf("half an event reached the client: %q", resp.Body)
	}
	// The SDK surfaces it as an error.
	client := sdk(gw, testMasterKey)
	p := userMsg("x")
	p.Model = "m"
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	for stream.Next() {
	}
	if stream.Err() == nil {
		t.Fatal("SDK saw no error for a failed stream")
	}
}

func TestUpstreamErrorPassedWithStatusAndScrubbed(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		io.WriteString(w, `{"error":{"message":"Incorrect API key provided: sk-upstream-secret-xyz","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
	})
	gw := startGateway(t, testConfig(dep(0, "m", "openai/m", up.base(), "sk-upstream-secret-xyz")))
	resp := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if resp.StatusCode != 400 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if strings.Contains(resp.Body, "sk-upstream-secret-xyz") {
		t.Fatalf("upstream key leaked to the client: %s", resp.Body)
	}
	if !strings.Contains(resp.Body, `"code":"invalid_api_key"`) {
		t.Fatalf("upstream error not passed on: %s", resp.Body)
	}
}

func TestUpstreamCookiesAndHeadersRelay(t *testing.T) {
	up := newFakeOpenAI(t)
	gw := startGateway(t, testConfig(dep(0, "m", "openai/m", up.base(), "k")))
	resp := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if resp.Header.Get("Set-Cookie") != "" {
		t.Error("upstream cookie relayed to the client")
	}
	if resp.Header.Get("X-Ratelimit-Remaining-Requests") != "99" {
		t.Error("x-ratelimit header not relayed")
	}
}

func TestUnreachableUpstreamIs503(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	gw := startGateway(t, testConfig(dep(0, "m", "openai/m", "http://"+addr+"/v1", "sk-secret-abcdef")))
	resp := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if resp.StatusCode != 503 || !strings.Contains(resp.Body, "upstream_unavailable") {
		t.Fatalf("status %d body %s", resp.StatusCode, resp.Body)
	}
}

func TestMissingEnvDeploymentIs503NamingVariable(t *testing.T) {
	d := dep(0, "claude", "openai/x", "http://127.0.0.1:1/v1", "")
	d.MissingEnv = []string{"ANTHROPIC_API_KEY"}
	gw := startGateway(t, testConfig(d))
	resp := rawPost(t, gw, "/v1/chat/completions", `{"model":"claude","messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if resp.StatusCode != 503 || !strings.Contains(resp.Body, "ANTHROPIC_API_KEY") || !strings.Contains(resp.Body, "claude") {
		t.Fatalf("status %d body %s", resp.StatusCode, resp.Body)
	}
}

func TestRetryGoesToAnotherDeployment(t *testing.T) {
	bad := newFakeOpenAI(t)
	bad.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) { w.WriteHeader(503) })
	good := newFakeOpenAI(t)
	gw := startGateway(t, testConfig(dep(0, "m", "openai/m", bad.base(), "k"), dep(1, "m", "openai/m", good.base(), "k")))
	for i := 0; i < 6; i++ {
		resp := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, testMasterKey)
		if resp.StatusCode != 200 || resp.Header.Get("X-Llmedge-Model-Id") != "m-1" {
			t.Fatalf("request %d: status %d via %s", i, resp.StatusCode, resp.Header.Get("X-Llmedge-Model-Id"))
		}
	}
}

func TestHealthRoutes(t *testing.T) {
	d := dep(1, "x", "openai/x", "http://127.0.0.1:1/v1", "")
	d.MissingEnv = []string{"X_KEY"}
	gw := startGateway(t, testConfig(dep(0, "demo", "mock/demo", "", ""), d))
	for _, p := range []string{"/health/liveliness", "/health/readiness"} {
		if r := rawRequest(t, gw, "GET", p, ""); r.StatusCode != 200 {
			t.Errorf("%s: %d", p, r.StatusCode)
		}
	}
	if r := rawRequest(t, gw, "GET", "/health", ""); r.StatusCode != 401 {
		t.Errorf("/health without key: %d", r.StatusCode)
	}
	r := rawRequest(t, gw, "GET", "/health", "", "Authorization: Bearer "+testMasterKey)
	var h struct {
		Healthy   int `json:"healthy_count"`
		Unhealthy int `json:"unhealthy_count"`
	}
	if err := json.Unmarshal([]byte(r.Body), &h); err != nil || h.Healthy != 1 || h.Unhealthy != 1 {
		t.Fatalf("health %s (%v)", r.Body, err)
	}
}

// --- raw HTTP helpers ---

type rawResponse struct {
	StatusCode int
	Header     http.Header
	Body       string
}

func rawPost(t *testing.T, gw *gateway, path, body, key string) rawResponse {
	return rawRequest(t, gw, "POST", path, body, "Authorization: Bearer "+key)
}

func rawRequest(t *testing.T, gw *gateway, method, path, body string, headers ...string) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, gw.url()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawResponse{resp.StatusCode, resp.Header, string(b)}
}

func writeRequest(t *testing.T, conn net.Conn, method, path, body string, headers ...string) {
	t.Helper()
	var sb strings.Builder
	sb.WriteString(method + " " + path + " HTTP/1.1\r\nHost: llmedge\r\nContent-Type: application/json\r\n")
	for _, h := range headers {
		sb.WriteString(h + "\r\n")
	}
	sb.WriteString("Content-Length: " + itoa(len(body)) + "\r\n\r\n" + body)
	_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, sb.String()); err != nil {
		t.Fatal(err)
	}
}

// rawStreamOpen sends a streaming request and reads the response head.
func rawStreamOpen(t *testing.T, gw *gateway, body string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	writeRequest(t, conn, "POST", "/v1/chat/completions", body, "Authorization: Bearer "+testMasterKey)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	// Read the chunked body by hand so each event is seen as it comes.
	return conn, bufio.NewReader(&chunkedReader{br: br})
}

// readEvent reads one SSE event (up to a blank line) within 3s.
func readEvent(t *testing.T, conn net.Conn, br *bufio.Reader) string {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	var sb strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading event: %v (so far %q)", err, sb.String())
		}
		if line == "\n" {
			if sb.Len() == 0 {
				continue
			}
			return sb.String()
		}
		sb.WriteString(line)
	}
}

// chunkedReader decodes HTTP/1.1 chunked encoding without waiting for
// more than the current chunk.
type chunkedReader struct {
	br   *bufio.Reader
	left int
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.left == 0 {
		line, err := c.br.ReadString('\n')
		if err != nil {
			return 0, err
		}
		line = strings.TrimSpace(line)
		if line == "" {
			line, err = c.br.ReadString('\n')
			if err != nil {
				return 0, err
			}
			line = strings.TrimSpace(line)
		}
		var n int
		for _, ch := range line {
			switch {
			case ch >= '0' && ch <= '9':
				n = n*16 + int(ch-'0')
			case ch >= 'a' && ch <= 'f':
				n = n*16 + int(ch-'a'+10)
			case ch >= 'A' && ch <= 'F':
				n = n*16 + int(ch-'A'+10)
			}
		}
		if n == 0 {
			return 0, io.EOF
		}
		c.left = n
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= n
	return n, err
}

// A deployment with max_parallel_requests 1 gives its slot back however
// a call ends: a stream relayed to its end, a non-stream answer, a
// client that leaves mid-stream. A slot kept by mistake would stall
// every later call.
func TestMaxParallelSlotFreedByEveryEnding(t *testing.T) {
	up := newFakeOpenAI(t)
	gate := make(chan struct{})
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		if strings.Contains(string(body), "hold") {
			streamWords([]string{"first", "second"}, 0, gate)(w, r, body)
			return
		}
		streamWords([]string{"ok"}, 0, nil)(w, r, body)
	})
	d := dep(0, "m", "openai/m", up.base(), "k")
	d.MaxParallel = 1
	cfg := testConfig(d)
	setSettings(cfg, "router_settings", map[string]any{"max_retry_wait_seconds": 0.5})
	gw := startGateway(t, cfg)
	stream := `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`
	for i := range 3 {
		if r := rawPost(t, gw, "/v1/chat/completions", stream, testMasterKey); r.StatusCode != 200 || !strings.HasSuffix(r.Body, "data: [DONE]\n\n") {
			t.Fatalf("stream %d: %d %q", i, r.StatusCode, r.Body)
		}
	}
	conn, br := rawStreamOpen(t, gw, `{"model":"m","stream":true,"messages":[{"role":"user","content":"hold"}]}`)
	readEvent(t, conn, br)
	// The held stream has the only slot: another call waits, then 429.
	if r := rawPost(t, gw, "/v1/chat/completions", stream, testMasterKey); r.StatusCode != 429 || !strings.Contains(r.Body, "max_parallel_requests") {
		t.Fatalf("while the slot is held: %d %s", r.StatusCode, r.Body)
	}
	conn.Close()
	waitFor(t, 3*time.Second, "in-flight back to 0", func() bool { return gw.srv.InFlight() == 0 })
	if r := rawPost(t, gw, "/v1/chat/completions", stream, testMasterKey); r.StatusCode != 200 {
		t.Fatalf("after the client left: %d %s", r.StatusCode, r.Body)
	}
}
