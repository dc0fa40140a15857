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
	had := s.usage != nil && s.usage.Reported
	s.usage.ObserveEvent(&ev)
	end := ev.IsDone() || (s.named && provider.TerminalResponseEvent(ev.Name))
	if s.hidden(&ev, had) {
		return nil, end, nil
	}
	return s.d.ScrubErrorEvent(&ev), end, nil
}

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
