package upstream

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/sse"
)

// A tool_use block's index comes from the upstream: a huge one used to
// grow the index table to that many entries (a malformed or hostile
// event could exhaust memory). It is now a bad event.
func TestTranslateToolIndexBounded(t *testing.T) {
	s := streamFor(t, false)
	ev := event("content_block_start", `{"type":"content_block_start","index":100000000000,"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{}}}`)
	_, _, err := s.translate(nil, ev)
	if err == nil || err.Code != "upstream_stream_error" {
		t.Fatalf("want a bad event error, got %v", err)
	}
	if cap(s.toolIndex) > 1<<20 {
		t.Fatalf("index table grew to %d", cap(s.toolIndex))
	}
}

// Responses are pooled across routes and providers, and so is their SSE
// scanner, whose event size cap survives Reset. The Anthropic path
// created it with the 1 MiB default, so an OpenAI stream later served by
// that Response failed on events past 1 MiB that maxStreamEvent (16 MiB)
// allows — depending on which call the pool had handed the Response to
// first.
func TestPooledScannerKeepsStreamEventCap(t *testing.T) {
	big := strings.Repeat("x", 2<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		if strings.HasSuffix(r.URL.Path, "/v1/messages") {
			fmt.Fprint(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude\",\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\n")
			fmt.Fprint(w, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
			return
		}
		fmt.Fprint(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[{"index":0,"delta":{"content":"`+big+`"},"finish_reason":null}]}`+"\n\n")
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	defer srv.Close()
	cfg := &config.Config{Deployments: []*config.Deployment{
		{ModelName: "claude", ID: "claude-0", Model: "anthropic/claude", Provider: "anthropic", UpstreamModel: "claude", APIBase: srv.URL, APIKey: "k"},
		{Index: 1, ModelName: "gpt", ID: "gpt-1", Model: "openai/gpt", Provider: "openai", UpstreamModel: "gpt", APIBase: srv.URL + "/v1", APIKey: "k"},
	}}
	reg, err := NewRegistry(cfg, Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	out := new(Response)
	for _, model := range []string{"claude", "gpt"} {
		body := `{"model":"` + model + `","stream":true,"max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`
		i := strings.Index(body, `"`+model+`"`)
		req := &ChatRequest{Body: []byte(body), ModelStart: i, ModelEnd: i + len(model) + 2, Model: []byte(model), Stream: true, Cancel: &Cancel{}}
		if err := reg.Chat(reg.Lookup([]byte(model)), req, out); err != nil {
			t.Fatalf("%s: %v", model, err)
		}
		var w bufWriter
		if err := out.Stream.Relay(&w); err != nil {
			t.Fatalf("%s: relay: %v", model, err)
		}
		if model == "gpt" && !strings.Contains(w.String(), big) {
			t.Fatalf("big event not relayed")
		}
	}
	out.x.release(&out.resp)
}

// A ConverseStream whose body ends before messageStop is a truncated
// answer: the client must get an error event, not a [DONE] that makes
// the partial answer look complete (the Anthropic translator does the
// same for a stream ending before message_stop).
func TestBedrockStreamEndingBeforeMessageStopFails(t *testing.T) {
	ev := func(typ, payload string) []byte {
		return appendESMessage(nil, [][2]string{{":event-type", typ}, {":content-type", "application/json"}, {":message-type", "event"}}, []byte(payload))
	}
	var wire []byte
	wire = append(wire, ev("messageStart", `{"role":"assistant"}`)...)
	wire = append(wire, ev("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"half an ans"}}`)...)
	s := &bedrockStream{d: &Deployment{ID: "br-0"}, x: &exchange{}, id: "chatcmpl-1", created: 1, model: []byte("nova")}
	s.dec = newESDecoder(bytes.NewReader(wire), 0)
	first, err := s.dec.Next()
	if err != nil {
		t.Fatal(err)
	}
	s.first = first
	var w bufWriter
	rerr := s.Relay(&w)
	if rerr == nil || !strings.Contains(w.String(), `"error"`) {
		t.Fatalf("truncated stream relayed as complete (err %v):\n%s", rerr, w.String())
	}

	// A complete one still ends with [DONE] and no error.
	wire = append(wire, ev("messageStop", `{"stopReason":"end_turn"}`)...)
	wire = append(wire, ev("metadata", `{"usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3}}`)...)
	s = &bedrockStream{d: &Deployment{ID: "br-0"}, x: &exchange{}, id: "chatcmpl-1", created: 1, model: []byte("nova")}
	s.dec = newESDecoder(bytes.NewReader(wire), 0)
	s.first, _ = s.dec.Next()
	w.Reset()
	if err := s.Relay(&w); err != nil || strings.Contains(w.String(), `"error"`) || !strings.HasSuffix(w.String(), "data: [DONE]\n\n") {
		t.Fatalf("complete stream: %v\n%s", err, w.String())
	}
}

// A Bedrock stream's usage (its metadata event) must reach
// Response.Usage like every other provider's: tokens-per-minute limits,
// metrics and the router's tpm read it there. It was only ever written
// into the client's usage chunk, and only when the client asked.
func TestBedrockStreamReportsUsage(t *testing.T) {
	ev := func(typ, payload string) []byte {
		return appendESMessage(nil, [][2]string{{":event-type", typ}, {":content-type", "application/json"}, {":message-type", "event"}}, []byte(payload))
	}
	var wire []byte
	wire = append(wire, ev("messageStart", `{"role":"assistant"}`)...)
	wire = append(wire, ev("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"hi"}}`)...)
	wire = append(wire, ev("messageStop", `{"stopReason":"end_turn"}`)...)
	wire = append(wire, ev("metadata", `{"usage":{"inputTokens":7,"outputTokens":3,"totalTokens":12,"cacheReadInputTokens":2}}`)...)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
		_, _ = w.Write(wire)
	}))
	defer srv.Close()
	cfg := &config.Config{Deployments: []*config.Deployment{{ModelName: "nova", ID: "nova-0", Model: "bedrock/amazon.nova-lite-v1:0",
		Provider: "bedrock", UpstreamModel: "amazon.nova-lite-v1:0", Params: map[string]any{
			"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
			"aws_region_name": "us-east-1", "aws_bedrock_runtime_endpoint": srv.URL}}}}
	reg, err := NewRegistry(cfg, Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"model":"nova","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	i := strings.Index(body, `"nova"`)
	req := &ChatRequest{Body: []byte(body), ModelStart: i, ModelEnd: i + 6, Model: []byte("nova"), Stream: true, WantUsage: true, Cancel: &Cancel{}}
	out := new(Response)
	defer out.x.release(&out.resp)
	if err := reg.Chat(reg.Lookup([]byte("nova")), req, out); err != nil {
		t.Fatal(err)
	}
	var w bufWriter
	if err := out.Stream.Relay(&w); err != nil {
		t.Fatal(err)
	}
	if u := out.Usage; !u.Reported || u.PromptTokens != 9 || u.CompletionTokens != 3 {
		t.Fatalf("usage %+v", u)
	}
}

// An answer over llmedge's caps is the upstream's doing and would come
// back the same on a retry: 502, not a retryable 503.
func TestTooLargeAnswerIsNotRetried(t *testing.T) {
	d := &Deployment{ID: "d-0", ModelName: "m"}
	for _, err := range []error{errBodyTooLarge, sse.ErrEventTooLarge, fmt.Errorf("reading: %w", sse.ErrEventTooLarge)} {
		e := transportError(d, err)
		if e.Status != 502 || e.Retryable || e.Code != "upstream_response_too_large" {
			t.Errorf("%v -> status %d retryable %v code %q", err, e.Status, e.Retryable, e.Code)
		}
	}
}
