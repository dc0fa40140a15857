package chat

import "github.com/llmedge/llmedge/internal/jsonx"

// Chunk is one chat.completion.chunk read without decoding: raw values
// pointing into the event's data, valid until it is reused.
type Chunk struct {
	ID, Model []byte
	// Content and Reasoning are string literals, quotes included
	// (reasoning_content, or reasoning as vLLM and OpenRouter send it);
	// nil when absent, null or empty.
	Content, Reasoning []byte
	// ToolCalls is the delta's tool_calls array (nil when absent).
	ToolCalls []byte
	// Finish is the choice's finish_reason without quotes (nil: none).
	Finish []byte
	// Usage is the usage object (nil when absent or null).
	Usage []byte
	// Error is the error object of an error event.
	Error []byte
}

// ReadChunk reads data, a chunk's JSON, into c.
func ReadChunk(data []byte, c *Chunk) {
	*c = Chunk{}
	c.ID, c.Model = jsonx.Get2(data, "id", "model")
	c.ID, c.Model = jsonx.StrVal(c.ID), jsonx.StrVal(c.Model)
	choices, usage := jsonx.Get2(data, "choices", "usage")
	if len(usage) > 0 && usage[0] == '{' {
		c.Usage = usage
	}
	if choices == nil {
		c.Error = jsonx.Get(data, "error")
		return
	}
	choice, _ := NextElem(choices, 0)
	if choice == nil {
		return
	}
	delta, finish := jsonx.Get2(choice, "delta", "finish_reason")
	c.Finish = jsonx.StrVal(finish)
	if delta == nil {
		return
	}
	content, reasoning := jsonx.Get2(delta, "content", "reasoning_content")
	if reasoning == nil {
		reasoning = jsonx.Get(delta, "reasoning")
	}
	if lit := jsonx.LitVal(content); len(lit) > 2 {
		c.Content = lit
	}
	if lit := jsonx.LitVal(reasoning); len(lit) > 2 {
		c.Reasoning = lit
	}
	if tc := jsonx.Get(delta, "tool_calls"); len(tc) > 0 && tc[0] == '[' {
		c.ToolCalls = tc
	}
}

// NextElem returns the element of the array arr that starts at or
// after offset i (0 for the first) and the offset to pass for the one
// after it; elem is nil past the last element or when arr is not an
// array.
func NextElem(arr []byte, i int) (elem []byte, next int) {
	if i == 0 {
		i = jsonx.SkipSpace(arr, 0)
		if i >= len(arr) || arr[i] != '[' {
			return nil, len(arr)
		}
		i++
	}
	i = jsonx.SkipSpace(arr, i)
	if i < len(arr) && arr[i] == ',' {
		i = jsonx.SkipSpace(arr, i+1)
	}
	if i >= len(arr) || arr[i] == ']' {
		return nil, len(arr)
	}
	e, ok := jsonx.SkipStrictValue(arr, i)
	if !ok {
		return nil, len(arr)
	}
	return arr[i:e], e
}

// ToolDelta is one entry of a chunk's tool_calls.
type ToolDelta struct {
	Index int
	// ID and Name are string literals (nil when absent: a continuation);
	// Args is the arguments fragment's literal (nil when empty).
	ID, Name, Args []byte
}

// ReadToolDelta reads one element of Chunk.ToolCalls.
func ReadToolDelta(e []byte, t *ToolDelta) {
	idx, id := jsonx.Get2(e, "index", "id")
	t.Index = intVal(idx)
	t.ID = jsonx.LitVal(id)
	if len(t.ID) <= 2 {
		t.ID = nil
	}
	fn := jsonx.Get(e, "function")
	name, args := jsonx.Get2(fn, "name", "arguments")
	t.Name = jsonx.LitVal(name)
	if len(t.Name) <= 2 {
		t.Name = nil
	}
	t.Args = jsonx.LitVal(args)
	if len(t.Args) <= 2 {
		t.Args = nil
	}
}

func intVal(v []byte) int {
	if len(v) == 0 || len(v) > 9 {
		return 0
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// Usage is a chat answer's token usage. Prompt includes the cached
// tokens, as OpenAI counts them.
type Usage struct {
	Prompt, Completion, Cached, CacheCreation, Reasoning int
}

// ReadUsage reads a usage object (OpenAI's, with llmedge's and
// LiteLLM's cache_creation_input_tokens where present).
func ReadUsage(u []byte) Usage {
	var out Usage
	p, c := jsonx.Get2(u, "prompt_tokens", "completion_tokens")
	out.Prompt, out.Completion = intVal(p), intVal(c)
	ptd, ctd := jsonx.Get2(u, "prompt_tokens_details", "completion_tokens_details")
	if n := jsonx.Int(ptd, "cached_tokens"); n > 0 {
		out.Cached = n
	}
	if n := jsonx.Int(ptd, "cache_creation_tokens"); n > 0 {
		out.CacheCreation = n
	} else if n := jsonx.Int(u, "cache_creation_input_tokens"); n > 0 {
		out.CacheCreation = n
	}
	if n := jsonx.Int(ctd, "reasoning_tokens"); n > 0 {
		out.Reasoning = n
	}
	return out
}

// Uncached is the prompt tokens read neither from nor into a cache (how
// Anthropic counts input_tokens).
func (u Usage) Uncached() int {
	n := u.Prompt - u.Cached - u.CacheCreation
	if n < 0 {
		return 0
	}
	return n
}
