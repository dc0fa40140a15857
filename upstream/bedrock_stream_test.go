package upstream

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/transport"
)

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
	s := &bedrockStream{d: &provider.Endpoint{ID: "br-0"}, x: &transport.Exchange{}, id: "chatcmpl-1", created: 1, model: []byte("nova")}
	s.dec = newESDecoder(bytes.NewReader(wire), 0)
	first, err := s.dec.Next()
	if err != nil {
		t.Fatal(err)
	}
	s.first = first
	var w bufWriter
	rerr := relayOver(s, s.x).Relay(&w)
	if rerr == nil || !strings.Contains(w.String(), `"error"`) {
		t.Fatalf("truncated stream relayed as complete (err %v):\n%s", rerr, w.String())
	}

	// A complete one still ends with [DONE] and no error.
	wire = append(wire, ev("messageStop", `{"stopReason":"end_turn"}`)...)
	wire = append(wire, ev("metadata", `{"usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3}}`)...)
	s = &bedrockStream{d: &provider.Endpoint{ID: "br-0"}, x: &transport.Exchange{}, id: "chatcmpl-1", created: 1, model: []byte("nova")}
	s.dec = newESDecoder(bytes.NewReader(wire), 0)
	s.first, _ = s.dec.Next()
	w.Reset()
	if err := relayOver(s, s.x).Relay(&w); err != nil || strings.Contains(w.String(), `"error"`) || !strings.HasSuffix(w.String(), "data: [DONE]\n\n") {
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
	defer out.X.Release(&out.Resp)
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
