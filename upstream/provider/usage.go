package provider

import (
	"bytes"
	"strconv"

	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/sse"
)

// Usage is the token count an upstream answer reported, read from its
// "usage" object without decoding the rest: chat and completions
// (prompt_tokens, completion_tokens), embeddings (prompt_tokens) and the
// Responses API (input_tokens, output_tokens, in response.completed when
// streamed).
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	// Reported is true once a usage object was read.
	Reported bool
}

var usageKey = []byte(`"usage"`)

// StreamUsage is where a pass-through stream reports usage: nil (no
// per-event scan) for chat and completions streams that did not ask for
// it with stream_options.include_usage, the only way OpenAI sends it.
// Responses streams always end with it in response.completed, and only
// their terminal events are read.
func StreamUsage(req *Request, out *Answer) *Usage {
	if req.IncludeUsage || req.WantUsage || req.Route.Spec().Named {
		return &out.Usage
	}
	return nil
}

// ObserveBody reads usage from a JSON answer. The usage object closes
// OpenAI's answers, so it is searched from the end.
func (u *Usage) ObserveBody(b []byte) {
	for end := len(b); end > 0; {
		i := lastIndexUsage(b[:end])
		if i < 0 {
			return
		}
		if p, c, ok := parseUsageAt(b, i+len(usageKey)); ok {
			u.PromptTokens, u.CompletionTokens, u.Reported = p, c, true
			return
		}
		end = i
	}
}

// ObserveEvent reads usage from a stream event. Named Responses events
// carry usage only in their terminal events; the others are skipped
// unread.
func (u *Usage) ObserveEvent(ev *sse.Event) {
	if u == nil || (len(ev.Name) > 0 && !TerminalResponseEvent(ev.Name)) {
		return
	}
	u.ObserveBody(ev.Data)
}

// usageTail is usageKey without its opening quote: its first byte is
// rare in JSON (unlike '"'), which keeps bytes.Index on its fast path.
var usageTail = usageKey[1:]

// lastIndexUsage is bytes.LastIndex(b, usageKey), searching backwards
// window by window with the vectorised bytes.Index (bytes.LastIndex
// compares byte by byte).
func lastIndexUsage(b []byte) int {
	const window = 1024
	for end := len(b); end > 0; {
		start := max(0, end-window)
		w := b[start:end]
		last := -1
		for off := 0; ; {
			j := bytes.Index(w[off:], usageTail)
			if j < 0 {
				break
			}
			if k := start + off + j - 1; k >= 0 && b[k] == '"' {
				last = k
			}
			off += j + 1
		}
		if last >= 0 {
			return last
		}
		if start == 0 {
			return -1
		}
		end = start + len(usageTail) - 1 // overlap: a key across the boundary
	}
	return -1
}

func TerminalResponseEvent(name []byte) bool {
	switch string(name) {
	case "response.completed", "response.incomplete", "response.failed":
		return true
	}
	return false
}

// parseUsageAt parses `: {...}` at b[i:] (just after the "usage" key)
// and returns its prompt/input and completion/output token counts.
// Anthropic counts cached prompt tokens apart from input_tokens
// (cache_creation_input_tokens, cache_read_input_tokens): they are part
// of the prompt. ok is false when the value is not an object (null) or
// is malformed.
func parseUsageAt(b []byte, i int) (prompt, completion int, ok bool) {
	cached := 0
	i = jsonx.SkipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return 0, 0, false
	}
	i = jsonx.SkipSpace(b, i+1)
	if i >= len(b) || b[i] != '{' {
		return 0, 0, false
	}
	i++
	for {
		i = jsonx.SkipSpace(b, i)
		if i >= len(b) {
			return 0, 0, false
		}
		switch b[i] {
		case '}':
			return prompt + cached, completion, true
		case ',':
			i++
			continue
		case '"':
		default:
			return 0, 0, false
		}
		ke, kok := jsonx.SkipString(b, i)
		if !kok {
			return 0, 0, false
		}
		key := b[i+1 : ke-1]
		i = jsonx.SkipSpace(b, ke)
		if i >= len(b) || b[i] != ':' {
			return 0, 0, false
		}
		i = jsonx.SkipSpace(b, i+1)
		var dst *int
		switch string(key) {
		case "prompt_tokens", "input_tokens":
			dst = &prompt
		case "completion_tokens", "output_tokens":
			dst = &completion
		case "cache_creation_input_tokens", "cache_read_input_tokens":
			if n, e := parseUint(b, i); e > i {
				cached += n
				i = e
				continue
			}
		}
		if dst != nil {
			n, e := parseUint(b, i)
			if e > i {
				*dst = n
				i = e
				continue
			}
		}
		e, vok := jsonx.SkipValue(b, i)
		if !vok {
			return 0, 0, false
		}
		i = e
	}
}

// parseUint reads a non-negative integer at b[i:], returning the index
// past it (== i when there is none). Values beyond 1e15 are cut off
// rather than overflowing.
func parseUint(b []byte, i int) (int, int) {
	n, s := 0, i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if n < 1e15 {
			n = n*10 + int(b[i]-'0')
		}
		i++
	}
	if i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
		return 0, s // not an integer: skip it as a value
	}
	return n, i
}

// NoteAnthropic records the usage of a native Anthropic stream event:
// input tokens arrive in message_start, output tokens (cumulative) in
// message_delta, so the larger value of each is kept.
func (u *Usage) NoteAnthropic(data []byte) {
	if len(data) == 0 || !bytes.Contains(data, usageKey) {
		return
	}
	var v Usage
	v.ObserveBody(data)
	if !v.Reported {
		return
	}
	u.PromptTokens = max(u.PromptTokens, v.PromptTokens)
	u.CompletionTokens = max(u.CompletionTokens, v.CompletionTokens)
	u.Reported = true
}

// AppendUsage appends an OpenAI usage member ("usage":{...}) with
// the given token counts.
func AppendUsage(b []byte, prompt, completion int) []byte {
	b = append(b, `"usage":{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(prompt), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(completion), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(prompt+completion), 10)
	return append(b, '}')
}
