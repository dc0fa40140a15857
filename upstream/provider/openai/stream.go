package openai

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/sse"
	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/transport"
)

// passStream translates an OpenAI-compatible upstream stream: every
// event passes unchanged, except the usage-only chunk llmedge asked for
// on behalf of a client that did not.
type passStream struct {
	provider.SSEEvents
	d *provider.Endpoint
	// named streams (Responses API) end without [DONE] and report
	// errors as "event: error"; usage receives the reported usage.
	named bool
	usage *provider.Usage
	// hideUsage keeps the usage-only chunk from a client that did not
	// ask for it (llmedge asked, for token limits).
	hideUsage bool
	// last is the event Next returned last (LastText); deltaAt the
	// offset of "delta": in the chunk before.
	last    sse.Event
	deltaAt int
}

var passStreams = sync.Pool{New: func() any { return new(passStream) }}

func (s *passStream) Release() {
	*s = passStream{}
	passStreams.Put(s)
}

func (s *passStream) Next() ([]byte, bool, error) {
	ev, err := s.NextEvent()
	if err == io.EOF {
		if s.named {
			return nil, true, nil // Responses streams end at EOF
		}
		// The upstream ended without [DONE]: end it for the client.
		return sse.Done, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	s.last = ev
	had := s.usage != nil && s.usage.Reported
	s.usage.ObserveEvent(&ev)
	end := ev.IsDone() || (s.named && provider.TerminalResponseEvent(ev.Name))
	if s.hidden(&ev, had) {
		return nil, end, nil
	}
	return s.d.ScrubErrorEvent(&ev), end, nil
}

// LastText implements provider.TextReporter: a chat chunk's
// choices[0].delta.content (a completion's choices[0].text), a
// Responses output_text.delta's delta. Read only when asked (the relay
// asks while the repeated-chunk guard is on).
//
// The chunk is searched, not walked: a key followed by its colon cannot
// occur inside a JSON string (its quotes would be escaped), so the
// first "delta": is choices[0]'s, and the first "content": after it is
// its content unless the delta has none (then it is logprobs' array or
// null: no text). The chunks of one stream share their layout, so the
// delta key is looked for first where the last chunk had it.
func (s *passStream) LastText() []byte {
	ev := &s.last
	if s.named {
		if string(ev.Name) != "response.output_text.delta" {
			return nil
		}
		return jsonx.Lit(ev.Data, "delta")
	}
	if len(ev.Name) > 0 {
		return nil
	}
	d := ev.Data
	i := s.deltaAt
	if i+len(deltaKey) > len(d) || string(d[i:i+len(deltaKey)]) != string(deltaKey) {
		if i = bytes.Index(d, deltaKey); i < 0 {
			return completionText(d)
		}
		s.deltaAt = i
	}
	i += len(deltaKey)
	// Usually the delta's first member: {"content":...
	if j := jsonx.SkipSpace(d, i); j < len(d) && d[j] == '{' {
		if k := jsonx.SkipSpace(d, j+1); k+len(contentKey) <= len(d) && string(d[k:k+len(contentKey)]) == string(contentKey) {
			return stringAt(d, k+len(contentKey))
		}
	}
	j := bytes.Index(d[i:], contentKey)
	if j < 0 {
		return nil
	}
	return stringAt(d, i+j+len(contentKey))
}

// completionText is a completions chunk's choices[0].text.
func completionText(d []byte) []byte {
	i := bytes.Index(d, textKey)
	if i < 0 {
		return nil
	}
	return stringAt(d, i+len(textKey))
}

// stringAt returns the string literal at d[i:] (after spaces), nil when
// the value there is not a string.
func stringAt(d []byte, i int) []byte {
	i = jsonx.SkipSpace(d, i)
	if i >= len(d) || d[i] != '"' {
		return nil
	}
	// A loop, not jsonx.SkipString's IndexAny: a streamed token is a few
	// bytes.
	for j := i + 1; j < len(d); j++ {
		switch d[j] {
		case '\\':
			j++
		case '"':
			return d[i : j+1]
		}
	}
	return nil
}

var (
	deltaKey   = []byte(`"delta":`)
	contentKey = []byte(`"content":`)
	textKey    = []byte(`"text":`)
)

func (s *passStream) Failure(dst []byte, err error) ([]byte, error) {
	msg, typ, code := provider.MidStreamFailure(s.d, err, "mid-event")
	dst = provider.AppendFailureEvent(dst, s.named, msg, typ, code)
	if errors.Is(err, transport.ErrTimeout) {
		return dst, fmt.Errorf("%w: %s", err, msg)
	}
	return dst, err
}

// hidden reports whether a chat stream event is the usage-only chunk
// (empty "choices", a "usage" object) llmedge asked for on behalf of a
// client that did not: the event that first reported usage (had: usage
// was known before it). It costs nothing for the other events.
func (s *passStream) hidden(ev *sse.Event, had bool) bool {
	return s.hideUsage && !had && s.usage != nil && s.usage.Reported && len(ev.Name) == 0 && usageOnlyChunk(ev.Data)
}

// usageOnlyChunk reports whether a stream chunk is the one
// stream_options.include_usage adds: "choices" is an empty array.
func usageOnlyChunk(data []byte) bool {
	i := bytes.Index(data, []byte(`"choices"`))
	if i < 0 {
		return true
	}
	i = jsonx.SkipSpace(data, i+9)
	if i >= len(data) || data[i] != ':' {
		return false
	}
	i = jsonx.SkipSpace(data, i+1)
	if i+1 >= len(data) || data[i] != '[' {
		return false
	}
	i = jsonx.SkipSpace(data, i+1)
	return i < len(data) && data[i] == ']'
}

// appendPatchedBody appends the client's body with the model literal
// replaced by model and, when req.UsagePatch is set, the include_usage
// splice applied; every other byte is kept.
func appendPatchedBody(dst []byte, req *provider.Request, model []byte) []byte {
	b := req.Body
	type splice struct {
		at, del int
		ins     []byte
	}
	s1 := splice{req.ModelStart, req.ModelEnd - req.ModelStart, model}
	s2 := splice{req.UsagePatchAt, req.UsagePatchDel, req.UsagePatch}
	if req.UsagePatch == nil {
		dst = append(dst, b[:s1.at]...)
		dst = append(dst, s1.ins...)
		return append(dst, b[s1.at+s1.del:]...)
	}
	if s2.at < s1.at {
		s1, s2 = s2, s1
	}
	dst = append(dst, b[:s1.at]...)
	dst = append(dst, s1.ins...)
	dst = append(dst, b[s1.at+s1.del:s2.at]...)
	dst = append(dst, s2.ins...)
	return append(dst, b[s2.at+s2.del:]...)
}
