package bench

import (
	"encoding/json"
	"strconv"
)

// This file builds the fake upstream's response bytes (OpenAI and Anthropic
// wire formats), once per model name.

// chunkText returns n bytes of harmless ASCII text (no JSON escaping needed).
func chunkText(n, i int) string {
	const words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
	b := make([]byte, n)
	for j := range b {
		b[j] = words[(i*n+j)%len(words)]
	}
	return string(b)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func sseData(v any) []byte {
	return append(append([]byte("data: "), mustJSON(v)...), "\n\n"...)
}

func sseEvent(name string, v any) []byte {
	b := []byte("event: " + name + "\ndata: ")
	return append(append(b, mustJSON(v)...), "\n\n"...)
}

type obj = map[string]any

const (
	benchCreated      = 1700000000
	benchPromptTokens = 8
)

func buildOpenAI(model string, o UpstreamOptions) *precomputed {
	const id = "chatcmpl-bench"
	p := &precomputed{}
	full := make([]byte, 0, o.Chunks*o.ChunkBytes)
	for i := range o.Chunks {
		text := chunkText(o.ChunkBytes, i)
		full = append(full, text...)
		delta := obj{"content": text}
		if i == 0 {
			delta["role"] = "assistant"
		}
		p.chunks = append(p.chunks, sseData(obj{
			"id": id, "object": "chat.completion.chunk", "created": benchCreated, "model": model,
			"choices": []any{obj{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": nil}},
		}))
	}
	usage := obj{"prompt_tokens": benchPromptTokens, "completion_tokens": o.Chunks,
		"total_tokens": benchPromptTokens + o.Chunks}
	p.tail = sseData(obj{
		"id": id, "object": "chat.completion.chunk", "created": benchCreated, "model": model,
		"choices": []any{obj{"index": 0, "delta": obj{}, "logprobs": nil, "finish_reason": "stop"}},
	})
	p.usage = sseData(obj{
		"id": id, "object": "chat.completion.chunk", "created": benchCreated, "model": model,
		"choices": []any{}, "usage": usage,
	})
	p.done = []byte("data: [DONE]\n\n")
	p.jsonBody = mustJSON(obj{
		"id": id, "object": "chat.completion", "created": benchCreated, "model": model,
		"choices": []any{obj{"index": 0, "logprobs": nil, "finish_reason": "stop",
			"message": obj{"role": "assistant", "content": string(full), "refusal": nil}}},
		"usage": usage,
	})
	p.errBody = mustJSON(obj{"error": obj{"message": "bench: injected error (status " +
		strconv.Itoa(o.ErrorStatus) + ")", "type": openAIErrorType(o.ErrorStatus), "param": nil, "code": "bench_injected"}})
	return p
}

func buildAnthropic(model string, o UpstreamOptions) *precomputed {
	const id = "msg_bench"
	p := &precomputed{}
	p.head = [][]byte{
		sseEvent("message_start", obj{"type": "message_start", "message": obj{
			"id": id, "type": "message", "role": "assistant", "model": model, "content": []any{},
			"stop_reason": nil, "stop_sequence": nil,
			"usage": obj{"input_tokens": benchPromptTokens, "output_tokens": 1}}}),
		sseEvent("content_block_start", obj{"type": "content_block_start", "index": 0,
			"content_block": obj{"type": "text", "text": ""}}),
		sseEvent("ping", obj{"type": "ping"}),
	}
	full := make([]byte, 0, o.Chunks*o.ChunkBytes)
	for i := range o.Chunks {
		text := chunkText(o.ChunkBytes, i)
		full = append(full, text...)
		p.chunks = append(p.chunks, sseEvent("content_block_delta", obj{"type": "content_block_delta",
			"index": 0, "delta": obj{"type": "text_delta", "text": text}}))
	}
	tail := sseEvent("content_block_stop", obj{"type": "content_block_stop", "index": 0})
	tail = append(tail, sseEvent("message_delta", obj{"type": "message_delta",
		"delta": obj{"stop_reason": "end_turn", "stop_sequence": nil},
		"usage": obj{"output_tokens": o.Chunks}})...)
	p.tail = tail
	p.done = sseEvent("message_stop", obj{"type": "message_stop"})
	p.jsonBody = mustJSON(obj{
		"id": id, "type": "message", "role": "assistant", "model": model,
		"content":     []any{obj{"type": "text", "text": string(full)}},
		"stop_reason": "end_turn", "stop_sequence": nil,
		"usage": obj{"input_tokens": benchPromptTokens, "output_tokens": o.Chunks},
	})
	p.errBody = mustJSON(obj{"type": "error", "error": obj{"type": anthropicErrorType(o.ErrorStatus),
		"message": "bench: injected error (status " + strconv.Itoa(o.ErrorStatus) + ")"}})
	return p
}

// openAIErrorType is the "type" OpenAI uses for an error status.
func openAIErrorType(status int) string {
	switch {
	case status == 401:
		return "authentication_error"
	case status == 403:
		return "permission_error"
	case status == 404:
		return "not_found_error"
	case status == 429:
		return "rate_limit_exceeded"
	case status >= 400 && status < 500:
		return "invalid_request_error"
	default:
		return "server_error"
	}
}

// anthropicErrorType is the error.type Anthropic uses for an error status.
func anthropicErrorType(status int) string {
	switch status {
	case 400:
		return "invalid_request_error"
	case 401:
		return "authentication_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 413:
		return "request_too_large"
	case 429:
		return "rate_limit_error"
	case 529:
		return "overloaded_error"
	default:
		return "api_error"
	}
}
