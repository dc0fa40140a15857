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
	// PromptTokens counts every prompt token, cached ones included.
	PromptTokens     int
	CompletionTokens int
	// CacheReadTokens and CacheWriteTokens are the part of PromptTokens
	// read from and written to the provider's prompt cache (OpenAI's
	// prompt_tokens_details.cached_tokens, Anthropic's
	// cache_read_input_tokens and cache_creation_input_tokens);
	// ReasoningTokens the part of CompletionTokens spent reasoning
	// (completion_tokens_details.reasoning_tokens). They price a call
	// (upstream/pricing).
	CacheReadTokens, CacheWriteTokens, ReasoningTokens int
	// Reported is true once a usage object was read.
	Reported bool
}

var usageKey = []byte(`"usage"`)

// detailsSuffix ends the keys of the *_details objects read inside a
// usage object.
var detailsSuffix = []byte("_tokens_details")

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
		if v, ok := parseUsageAt(b, i+len(usageKey)); ok {
			*u = v
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

// parseUsageAt parses `: {...}` at b[i:] (just after the "usage" key).
// OpenAI's prompt_tokens include cached tokens (told apart in
// prompt_tokens_details); Anthropic's input_tokens do not: its
// cache_creation_input_tokens and cache_read_input_tokens are added to
// the prompt. The Responses API's input_tokens include them, like
// OpenAI's. ok is false when the value is not an object (null) or is
// malformed.
func parseUsageAt(b []byte, i int) (u Usage, ok bool) {
	var f usageFields
	if _, ok = f.parse(b, i, 0); !ok {
		return Usage{}, false
	}
	u.PromptTokens, u.CompletionTokens, u.Reported = f.input, f.completion, true
	u.CacheReadTokens, u.CacheWriteTokens, u.ReasoningTokens = f.detailRead, f.detailWrite, f.reasoning
	if f.anthRead >= 0 || f.anthWrite >= 0 {
		u.CacheReadTokens, u.CacheWriteTokens = max(f.anthRead, 0), max(f.anthWrite, 0)
	}
	switch {
	case f.prompt >= 0:
		u.PromptTokens = f.prompt
	case f.detailRead == 0 && f.detailWrite == 0:
		// Anthropic: cache tokens are beside input_tokens.
		u.PromptTokens += u.CacheReadTokens + u.CacheWriteTokens
	}
	return u, true
}

// usageFields are the counts one usage object names (-1: absent).
type usageFields struct {
	prompt, input, completion          int
	anthRead, anthWrite                int
	detailRead, detailWrite, reasoning int
}

// parse reads the object at b[i:] (after its key, at the ':'); depth 1
// is a *_details object, whose cached_tokens, cache_creation_tokens
// and reasoning_tokens are kept. It returns the index past the object.
func (f *usageFields) parse(b []byte, i, depth int) (int, bool) {
	if depth == 0 {
		*f = usageFields{prompt: -1, anthRead: -1, anthWrite: -1}
	}
	i = jsonx.SkipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return 0, false
	}
	i = jsonx.SkipSpace(b, i+1)
	if i >= len(b) || b[i] != '{' {
		return 0, false
	}
	i++
	for {
		i = jsonx.SkipSpace(b, i)
		if i >= len(b) {
			return 0, false
		}
		switch b[i] {
		case '}':
			return i + 1, true
		case ',':
			i++
			continue
		case '"':
		default:
			return 0, false
		}
		ke, kok := jsonx.SkipString(b, i)
		if !kok {
			return 0, false
		}
		key := b[i+1 : ke-1] // compared in place, not copied
		if depth == 0 && bytes.HasSuffix(key, detailsSuffix) {
			if j := jsonx.SkipSpace(b, ke); j < len(b) && b[j] == ':' {
				if k := jsonx.SkipSpace(b, j+1); k < len(b) && b[k] == '{' {
					e, ok := f.parse(b, ke, 1)
					if !ok {
						return 0, false
					}
					i = e
					continue
				}
			}
		}
		i = jsonx.SkipSpace(b, ke)
		if i >= len(b) || b[i] != ':' {
			return 0, false
		}
		i = jsonx.SkipSpace(b, i+1)
		if dst := f.dest(key, depth); dst != nil {
			if n, e := parseUint(b, i); e > i {
				*dst = n
				i = e
				continue
			}
		}
		e, vok := jsonx.SkipValue(b, i)
		if !vok {
			return 0, false
		}
		i = e
	}
}

func (f *usageFields) dest(key []byte, depth int) *int {
	if depth > 0 {
		switch string(key) {
		case "cached_tokens":
			return &f.detailRead
		case "cache_creation_tokens":
			return &f.detailWrite
		case "reasoning_tokens":
			return &f.reasoning
		}
		return nil
	}
	switch string(key) {
	case "prompt_tokens":
		return &f.prompt
	case "input_tokens":
		return &f.input
	case "completion_tokens", "output_tokens":
		return &f.completion
	case "cache_read_input_tokens":
		return &f.anthRead
	case "cache_creation_input_tokens":
		return &f.anthWrite
	}
	return nil
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
	u.CacheReadTokens = max(u.CacheReadTokens, v.CacheReadTokens)
	u.CacheWriteTokens = max(u.CacheWriteTokens, v.CacheWriteTokens)
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
