package providertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// A fake Anthropic Messages API, written from Anthropic's documented
// wire format: POST /v1/messages with x-api-key and anthropic-version,
// JSON answers of type "message", SSE streams of message_start,
// content_block_start/delta/stop, message_delta, message_stop, ping and
// error events, and {"type":"error","error":{...}} error bodies. Serve
// it with an Upstream.

// AnthropicKey is the x-api-key the tests' Anthropic deployments use.
const AnthropicKey = "sk-ant-upstream-secret"

// AnEvent is one SSE event of a fake Anthropic stream.
type AnEvent struct{ Name, Data string }

// AnStart is message_start with its usage.
func AnStart(model string, input, cacheRead, cacheWrite int) AnEvent {
	return AnEvent{"message_start", fmt.Sprintf(`{"type":"message_start","message":{"id":"msg_fake01","type":"message","role":"assistant","content":[],"model":%q,"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":%d,"cache_creation_input_tokens":%d,"cache_read_input_tokens":%d,"output_tokens":1}}}`, model, input, cacheWrite, cacheRead)}
}

// AnBlockStart is content_block_start of block i.
func AnBlockStart(i int, block string) AnEvent {
	return AnEvent{"content_block_start", fmt.Sprintf(`{"type":"content_block_start","index":%d,"content_block":%s}`, i, block)}
}

// AnDelta is content_block_delta of block i.
func AnDelta(i int, delta string) AnEvent {
	return AnEvent{"content_block_delta", fmt.Sprintf(`{"type":"content_block_delta","index":%d,"delta":%s}`, i, delta)}
}

// AnTextDelta is a text_delta of block i.
func AnTextDelta(i int, text string) AnEvent {
	b, _ := json.Marshal(text)
	return AnDelta(i, `{"type":"text_delta","text":`+string(b)+`}`)
}

// AnBlockStop is content_block_stop of block i.
func AnBlockStop(i int) AnEvent {
	return AnEvent{"content_block_stop", fmt.Sprintf(`{"type":"content_block_stop","index":%d}`, i)}
}

// AnMessageDelta is message_delta with the stop reason and output tokens.
func AnMessageDelta(stop string, output int) AnEvent {
	return AnEvent{"message_delta", fmt.Sprintf(`{"type":"message_delta","delta":{"stop_reason":%q,"stop_sequence":null},"usage":{"output_tokens":%d}}`, stop, output)}
}

// AnPing and AnStop are the ping and message_stop events.
var (
	AnPing = AnEvent{"ping", `{"type": "ping"}`}
	AnStop = AnEvent{"message_stop", `{"type":"message_stop"}`}
)

// AnthropicSSE streams events, flushing each.
func AnthropicSSE(events ...AnEvent) Handler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		if !CheckAnthropicRequest(w, r, body) {
			return
		}
		WriteAnthropicEvents(w, events...)
	}
}

// WriteAnthropicEvents writes events as Anthropic's server-sent events,
// flushing each (no checks: hosts other than Anthropic use it too).
func WriteAnthropicEvents(w http.ResponseWriter, events ...AnEvent) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl := w.(http.Flusher)
	for _, ev := range events {
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Name, ev.Data)
		fl.Flush()
	}
}

// AnthropicJSON answers with a message whose content blocks are given.
func AnthropicJSON(content, stop string, input, output, cacheRead, cacheWrite int) Handler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		if !CheckAnthropicRequest(w, r, body) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Anthropic-Ratelimit-Requests-Remaining", "42")
		w.Header().Set("Request-Id", "req_fake")
		fmt.Fprintf(w, `{"id":"msg_fake02","type":"message","role":"assistant","model":%q,"content":%s,"stop_reason":%q,"stop_sequence":null,"usage":{"input_tokens":%d,"cache_creation_input_tokens":%d,"cache_read_input_tokens":%d,"output_tokens":%d}}`,
			RequestModel(body), content, stop, input, cacheWrite, cacheRead, output)
	}
}

// AnthropicFail answers with an Anthropic error document and the given
// header name, value pairs.
func AnthropicFail(status int, typ, msg string, headers ...string) Handler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"type":"error","error":{"type":%q,"message":%q},"request_id":"req_err"}`, typ, msg)
	}
}

// CheckAnthropicRequest enforces what the real API requires and answers
// 400/401/404 like it when missing; it reports whether the request may
// be answered.
func CheckAnthropicRequest(w http.ResponseWriter, r *http.Request, body []byte) bool {
	fail := AnthropicFail
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
			Thinking  json.RawMessage   `json:"thinking"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			fail(400, "invalid_request_error", "invalid JSON")(w, r, body)
			return false
		}
		if req.Model == "" || (!strings.HasSuffix(r.URL.Path, "count_tokens") && req.MaxTokens == nil) || len(req.Messages) == 0 {
			fail(400, "invalid_request_error", "model, max_tokens and messages are required")(w, r, body)
			return false
		}
		if req.MaxTokens != nil {
			if msg := ThinkingError(req.Thinking, *req.MaxTokens); msg != "" {
				fail(400, "invalid_request_error", msg)(w, r, body)
				return false
			}
		}
		return true
	}
	return false
}

// ThinkingError is Anthropic's 400 message for an extended thinking
// object it refuses (a budget below 1024, max_tokens not above the
// budget; maxTokens -1: not known, not checked); "" when it is accepted
// or absent.
func ThinkingError(thinking json.RawMessage, maxTokens int) string {
	var t struct {
		Type   string `json:"type"`
		Budget *int   `json:"budget_tokens"`
	}
	if len(thinking) == 0 || json.Unmarshal(thinking, &t) != nil || t.Type != "enabled" {
		return ""
	}
	switch {
	case t.Budget == nil:
		return "thinking.enabled.budget_tokens: Field required"
	case *t.Budget < 1024:
		return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
	case maxTokens >= 0 && maxTokens <= *t.Budget:
		return "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size"
	}
	return ""
}
