package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream"
)

// A fake Anthropic Messages API, written from Anthropic's documented
// wire format: POST /v1/messages with x-api-key and anthropic-version,
// JSON answers of type "message", SSE streams of message_start,
// content_block_start/delta/stop, message_delta, message_stop, ping and
// error events, and {"type":"error","error":{...}} error bodies.

const anthropicTestKey = "sk-ant-upstream-secret"

// anEvent is one SSE event of a fake stream.
type anEvent struct{ name, data string }

func anStart(model string, input, cacheRead, cacheWrite int) anEvent {
	return anEvent{"message_start", fmt.Sprintf(`{"type":"message_start","message":{"id":"msg_fake01","type":"message","role":"assistant","content":[],"model":%q,"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":%d,"cache_creation_input_tokens":%d,"cache_read_input_tokens":%d,"output_tokens":1}}}`, model, input, cacheWrite, cacheRead)}
}

func anBlockStart(i int, block string) anEvent {
	return anEvent{"content_block_start", fmt.Sprintf(`{"type":"content_block_start","index":%d,"content_block":%s}`, i, block)}
}

func anDelta(i int, delta string) anEvent {
	return anEvent{"content_block_delta", fmt.Sprintf(`{"type":"content_block_delta","index":%d,"delta":%s}`, i, delta)}
}

func anTextDelta(i int, text string) anEvent {
	b, _ := json.Marshal(text)
	return anDelta(i, `{"type":"text_delta","text":`+string(b)+`}`)
}

func anBlockStop(i int) anEvent {
	return anEvent{"content_block_stop", fmt.Sprintf(`{"type":"content_block_stop","index":%d}`, i)}
}

func anMessageDelta(stop string, output int) anEvent {
	return anEvent{"message_delta", fmt.Sprintf(`{"type":"message_delta","delta":{"stop_reason":%q,"stop_sequence":null},"usage":{"output_tokens":%d}}`, stop, output)}
}

var (
	anPing = anEvent{"ping", `{"type": "ping"}`}
	anStop = anEvent{"message_stop", `{"type":"message_stop"}`}
)

// anthropicSSE streams events, flushing each.
func anthropicSSE(events ...anEvent) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		if !checkAnthropicRequest(w, r, body) {
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		fl := w.(http.Flusher)
		for _, ev := range events {
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.name, ev.data)
			fl.Flush()
		}
	}
}

// anthropicJSON answers with a message whose content blocks are given.
func anthropicJSON(content, stop string, input, output, cacheRead, cacheWrite int) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		if !checkAnthropicRequest(w, r, body) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Anthropic-Ratelimit-Requests-Remaining", "42")
		w.Header().Set("Request-Id", "req_fake")
		fmt.Fprintf(w, `{"id":"msg_fake02","type":"message","role":"assistant","model":%q,"content":%s,"stop_reason":%q,"stop_sequence":null,"usage":{"input_tokens":%d,"cache_creation_input_tokens":%d,"cache_read_input_tokens":%d,"output_tokens":%d}}`,
			upstreamModel(body), content, stop, input, cacheWrite, cacheRead, output)
	}
}

// anthropicFail answers with an Anthropic error document.
func anthropicFail(status int, typ, msg string, headers ...string) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"type":"error","error":{"type":%q,"message":%q},"request_id":"req_err"}`, typ, msg)
	}
}

// checkAnthropicRequest enforces what the real API requires and answers
// 400/401 like it when missing.
func checkAnthropicRequest(w http.ResponseWriter, r *http.Request, body []byte) bool {
	fail := anthropicFail
	switch {
	case r.Method != http.MethodPost || !(strings.HasSuffix(r.URL.Path, "/v1/messages") || strings.HasSuffix(r.URL.Path, "/v1/messages/count_tokens")):
		fail(404, "not_found_error", "Not found")(w, r, body)
	case r.Header.Get("X-Api-Key") == "":
		fail(401, "authentication_error", "x-api-key header is required")(w, r, body)
	case r.Header.Get("Anthropic-Version") == "":
		fail(400, "invalid_request_error", "anthropic-version: header is required")(w, r, body)
	case r.Header.Get("Authorization") != "":
		fail(400, "invalid_request_error", "unexpected Authorization header")(w, r, body)
	default:
		var req struct {
			Model     string            `json:"model"`
			MaxTokens *int              `json:"max_tokens"`
			Messages  []json.RawMessage `json:"messages"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			fail(400, "invalid_request_error", "invalid JSON")(w, r, body)
			return false
		}
		if req.Model == "" || (!strings.HasSuffix(r.URL.Path, "count_tokens") && req.MaxTokens == nil) || len(req.Messages) == 0 {
			fail(400, "invalid_request_error", "model, max_tokens and messages are required")(w, r, body)
			return false
		}
		return true
	}
	return false
}

func anthropicDep(i int, modelName string, up *fakeOpenAI) *config.Deployment {
	return dep(i, modelName, "anthropic/claude-sonnet-4-5", "http://"+up.ln.Addr().String(), anthropicTestKey)
}

// startGatewayWith is startGateway with registry options (dialer).
func startGatewayWith(t *testing.T, cfg *config.Config, opts upstream.Options) *gateway {
	t.Helper()
	if opts.LookupEnv == nil {
		opts.LookupEnv = func(string) (string, bool) { return "", false }
	}
	reg, err := upstream.NewRegistry(cfg, opts)
	if err != nil {
		t.Fatalf("registry: %v", err)
	}
	srv := New(cfg, reg, Options{})
	base := serveOnLoopback(t, srv)
	return &gateway{srv: srv, reg: reg, addr: strings.TrimPrefix(base, "http://")}
}

// jsonMap decodes an upstream body.
func jsonMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return m
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
