package server

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// An HTTP/1.0 client cannot read chunked transfer coding (RFC 9112
// §7.1: it is HTTP/1.1's), yet a stream answered it chunked. HTTP/1.0
// clients get the stream close-delimited: no Content-Length, no
// Transfer-Encoding, Connection: close, the events as they are.
func TestHTTP10StreamIsCloseDelimited(t *testing.T) {
	mock := dep(0, "demo", "mock/demo", "", "")
	mock.MockResponse, mock.HasMockResponse = "one two three", true
	for _, keepalive := range []bool{false, true} {
		cfg := testConfig(mock)
		if keepalive {
			setSettings(cfg, "general_settings", map[string]any{"stream_keepalive_seconds": 5})
		}
		gw := startGateway(t, cfg)
		body := `{"model":"demo","stream":true,"messages":[{"role":"user","content":"hi"}]}`
		conn, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		req := "POST /v1/chat/completions HTTP/1.0\r\nContent-Type: application/json\r\nAuthorization: Bearer " + testMasterKey +
			"\r\nContent-Length: " + itoa(len(body)) + "\r\n\r\n" + body
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		// Close-delimited: the answer ends when llmedge closes.
		raw, err := io.ReadAll(conn)
		conn.Close()
		if err != nil {
			t.Fatalf("keepalive=%v: reading to EOF: %v (got %q)", keepalive, err, raw)
		}
		head, payload, ok := strings.Cut(string(raw), "\r\n\r\n")
		if !ok {
			t.Fatalf("keepalive=%v: no header end in %q", keepalive, raw)
		}
		lh := strings.ToLower(head)
		if !strings.HasPrefix(head, "HTTP/1.") || !strings.Contains(head, " 200 ") {
			t.Errorf("keepalive=%v: status line: %q", keepalive, head)
		}
		for _, bad := range []string{"transfer-encoding", "content-length"} {
			if strings.Contains(lh, bad) {
				t.Errorf("keepalive=%v: HTTP/1.0 stream has %s:\n%s", keepalive, bad, head)
			}
		}
		if !strings.Contains(lh, "connection: close") {
			t.Errorf("keepalive=%v: no Connection: close:\n%s", keepalive, head)
		}
		if !strings.HasPrefix(strings.TrimLeft(payload, ": ping\n"), "data: {") || !strings.HasSuffix(payload, "data: [DONE]\n\n") {
			t.Errorf("keepalive=%v: body is not bare SSE: %q", keepalive, payload)
		}
		waitFor(t, 3*time.Second, "the stream finished", func() bool { return gw.srv.InFlight() == 0 })
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
