package bench

import "strconv"

// buildResponses builds the fake upstream's OpenAI Responses API bytes:
// a response document, or the named event stream (response.created, the
// message item and its text part, one response.output_text.delta per
// chunk, the .done events and response.completed).
func buildResponses(model string, o UpstreamOptions) *precomputed {
	const id, itemID = "resp_bench", "msg_bench"
	p := &precomputed{}
	seq := 0
	ev := func(name string, m obj) []byte {
		m["type"] = name
		m["sequence_number"] = seq
		seq++
		return sseEvent(name, m)
	}
	response := func(status string, output []any, usage any) obj {
		return obj{"id": id, "object": "response", "created_at": benchCreated, "status": status, "model": model,
			"output": output, "usage": usage, "error": nil, "incomplete_details": nil}
	}
	item := func(status string, content []any) obj {
		return obj{"id": itemID, "type": "message", "status": status, "role": "assistant", "content": content}
	}
	p.head = [][]byte{
		ev("response.created", obj{"response": response("in_progress", []any{}, nil)}),
		ev("response.in_progress", obj{"response": response("in_progress", []any{}, nil)}),
		ev("response.output_item.added", obj{"output_index": 0, "item": item("in_progress", []any{})}),
		ev("response.content_part.added", obj{"item_id": itemID, "output_index": 0, "content_index": 0,
			"part": obj{"type": "output_text", "text": "", "annotations": []any{}}}),
	}
	full := make([]byte, 0, o.Chunks*o.ChunkBytes)
	for i := range o.Chunks {
		text := chunkText(o.ChunkBytes, i)
		full = append(full, text...)
		p.chunks = append(p.chunks, ev("response.output_text.delta", obj{"item_id": itemID, "output_index": 0,
			"content_index": 0, "delta": text, "logprobs": []any{}}))
	}
	part := obj{"type": "output_text", "text": string(full), "annotations": []any{}}
	usage := obj{"input_tokens": benchPromptTokens, "output_tokens": o.Chunks, "total_tokens": benchPromptTokens + o.Chunks,
		"input_tokens_details": obj{"cached_tokens": 0}, "output_tokens_details": obj{"reasoning_tokens": 0}}
	done := response("completed", []any{item("completed", []any{part})}, usage)
	tail := ev("response.output_text.done", obj{"item_id": itemID, "output_index": 0, "content_index": 0, "text": string(full), "logprobs": []any{}})
	tail = append(tail, ev("response.content_part.done", obj{"item_id": itemID, "output_index": 0, "content_index": 0, "part": part})...)
	tail = append(tail, ev("response.output_item.done", obj{"output_index": 0, "item": item("completed", []any{part})})...)
	p.tail = tail
	p.done = ev("response.completed", obj{"response": done})
	p.jsonBody = mustJSON(done)
	p.errBody = mustJSON(obj{"error": obj{"message": "bench: injected error (status " +
		strconv.Itoa(o.ErrorStatus) + ")", "type": openAIErrorType(o.ErrorStatus), "param": nil, "code": "bench_injected"}})
	return p
}
