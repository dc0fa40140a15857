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

// ReadChunk reads data, a chunk's JSON, into c: one pass over the
// object, its first choice and that choice's delta.
func ReadChunk(data []byte, c *Chunk) {
	*c = Chunk{}
	var choices []byte
	for k, v, i := NextMember(data, 0); k != nil; k, v, i = NextMember(data, i) {
		switch string(k) {
		case "id":
			c.ID = jsonx.StrVal(v)
		case "model":
			c.Model = jsonx.StrVal(v)
		case "choices":
			choices = v
		case "usage":
			if len(v) > 0 && v[0] == '{' {
				c.Usage = v
			}
		case "error":
			c.Error = v
		}
	}
	choice, _ := NextElem(choices, 0)
	var delta []byte
	for k, v, i := NextMember(choice, 0); k != nil; k, v, i = NextMember(choice, i) {
		switch string(k) {
		case "delta":
			delta = v
		case "finish_reason":
			c.Finish = jsonx.StrVal(v)
		}
	}
	for k, v, i := NextMember(delta, 0); k != nil; k, v, i = NextMember(delta, i) {
		switch string(k) {
		case "content":
			c.Content = Literal(v)
		case "reasoning_content", "reasoning":
			c.Reasoning = Literal(v)
		case "tool_calls":
			if len(v) > 0 && v[0] == '[' {
				c.ToolCalls = v
			}
		}
	}
}

// Literal returns v when it is a valid, non-empty JSON string literal
// (safe to copy into another document verbatim), else nil. Containers
// are walked without validation; only what is copied is checked.
func Literal(v []byte) []byte {
	if len(v) <= 2 || v[0] != '"' {
		return nil
	}
	if e, ok := jsonx.SkipStrictString(v, 0); !ok || e != len(v) {
		return nil
	}
	return v
}

// NextMember returns the member of the object obj that starts at or
// after offset i (0 for the first): its key (raw, without quotes), its
// raw value and the offset to pass for the next; key is nil past the
// last member or when obj is not an object.
func NextMember(obj []byte, i int) (key, val []byte, next int) {
	if i == 0 {
		i = jsonx.SkipSpace(obj, 0)
		if i >= len(obj) || obj[i] != '{' {
			return nil, nil, len(obj)
		}
		i++
	}
	i = jsonx.SkipSpace(obj, i)
	if i < len(obj) && obj[i] == ',' {
		i = jsonx.SkipSpace(obj, i+1)
	}
	if i >= len(obj) || obj[i] != '"' {
		return nil, nil, len(obj)
	}
	ke, ok := jsonx.SkipString(obj, i)
	if !ok {
		return nil, nil, len(obj)
	}
	key = obj[i+1 : ke-1]
	i = jsonx.SkipSpace(obj, ke)
	if i >= len(obj) || obj[i] != ':' {
		return nil, nil, len(obj)
	}
	i = jsonx.SkipSpace(obj, i+1)
	ve, ok := jsonx.SkipValue(obj, i)
	if !ok {
		return nil, nil, len(obj)
	}
	return key, obj[i:ve], ve
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
	e, ok := jsonx.SkipValue(arr, i)
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
	*t = ToolDelta{}
	var fn []byte
	for k, v, i := NextMember(e, 0); k != nil; k, v, i = NextMember(e, i) {
		switch string(k) {
		case "index":
			t.Index = intVal(v)
		case "id":
			t.ID = Literal(v)
		case "function":
			fn = v
		}
	}
	for k, v, i := NextMember(fn, 0); k != nil; k, v, i = NextMember(fn, i) {
		switch string(k) {
		case "name":
			t.Name = Literal(v)
		case "arguments":
			t.Args = Literal(v)
		}
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

// maxToolCalls bounds the tool_calls index a stream may use (it sizes
// Calls).
const maxToolCalls = 1 << 10

// Calls maps a stream's tool_calls indexes to the slots (content
// blocks, output items) a client translator opened for them.
type Calls struct {
	at []int
	// Seen: the stream made at least one call.
	Seen bool
}

// Reset forgets every call, keeping the buffer.
func (c *Calls) Reset() { c.at, c.Seen = c.at[:0], false }

// Read reads one tool_calls entry e into t. opens reports a new call
// (it has an id, or a name at an unseen index): the caller opens its
// slot and Binds it. ok is false for an index out of bounds.
func (c *Calls) Read(e []byte, t *ToolDelta) (opens, ok bool) {
	ReadToolDelta(e, t)
	if t.Index < 0 || t.Index >= maxToolCalls {
		return false, false
	}
	opens = t.ID != nil || (t.Name != nil && c.Slot(t.Index) < 0)
	if opens {
		c.Seen = true
	}
	return opens, true
}

// Bind records slot as call index's.
func (c *Calls) Bind(index, slot int) {
	for len(c.at) <= index {
		c.at = append(c.at, -1)
	}
	c.at[index] = slot
}

// Slot is call index's slot, -1 when none was opened.
func (c *Calls) Slot(index int) int {
	if index < 0 || index >= len(c.at) {
		return -1
	}
	return c.at[index]
}
