package upstream

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/bytedance/sonic"

	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/sse"
	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/transport"
)

// clientConv turns a chat stream's events into the client's API
// (translate/messages, translate/responses): the far side of a
// clientStream.
type clientConv interface {
	// event appends the client's events for one chat event's data;
	// done: the client's stream is complete.
	event(dst, data []byte) (out []byte, done bool)
	// end appends what completes the client's stream (once).
	end(dst []byte) []byte
	// fail appends the client's error event for a failure; msg is raw
	// JSON string content.
	fail(dst, msg []byte) []byte
	// finished runs once the client's stream ended normally (storing a
	// translated response).
	finished()
}

// clientStream wraps the translator of a chat attempt made for a
// client of another API (Claude Code on /v1/messages, Codex on
// /v1/responses): every chat event the inner translator produces
// (passed through, or itself translated from Anthropic or Converse) is
// read back and converted. The relay driver sees one translator.
type clientStream struct {
	inner provider.Translator
	// text is inner when it reports its events' text (the guard reads
	// the chat text under the translation).
	text  provider.TextReporter
	conv  clientConv
	sc    *sse.Scanner
	rd    bytes.Reader
	buf   []byte
	tmp   []byte
	ended bool
}

var clientStreams = sync.Pool{New: func() any { return new(clientStream) }}

func newClientStream(inner provider.Translator, conv clientConv) *clientStream {
	s := clientStreams.Get().(*clientStream)
	s.inner, s.conv, s.ended = inner, conv, false
	s.text, _ = inner.(provider.TextReporter)
	return s
}

func (s *clientStream) Release() {
	if s.inner != nil {
		s.inner.Release()
	}
	s.inner, s.conv, s.text = nil, nil, nil
	if cap(s.buf) > 64<<10 {
		s.buf = nil
	}
	if cap(s.tmp) > 64<<10 {
		s.tmp = nil
	}
	clientStreams.Put(s)
}

// scan points the scanner at b: complete SSE events written by the
// inner translator.
func (s *clientStream) scan(b []byte) {
	s.rd.Reset(b)
	if s.sc == nil {
		s.sc = sse.NewScanner(&s.rd, transport.MaxStreamEvent)
	} else {
		s.sc.Reset(&s.rd)
	}
}

func (s *clientStream) Next() ([]byte, bool, error) {
	b, end, err := s.inner.Next()
	if err != nil {
		return nil, false, err
	}
	out := s.buf[:0]
	if len(b) > 0 {
		s.scan(b)
		for !s.ended {
			ev, err := s.sc.Next()
			if err != nil {
				break // io.EOF: b is used up
			}
			if ev.Comment {
				out = append(out, ev.Raw...) // ": ping" keeps proxies awake in any API
				continue
			}
			if len(ev.Data) == 0 {
				continue
			}
			var done bool
			out, done = s.conv.event(out, ev.Data)
			if done {
				s.ended = true
			}
		}
	}
	if end && !s.ended {
		out = s.conv.end(out)
		s.ended = true
	}
	s.buf = out
	if s.ended {
		s.conv.finished()
	}
	return out, s.ended, nil
}

func (s *clientStream) Buffered() bool { return s.inner.Buffered() }

// LastText implements provider.TextReporter: the text of the chat
// event under the client's events.
func (s *clientStream) LastText() []byte {
	if s.text == nil {
		return nil
	}
	return s.text.LastText()
}
func (s *clientStream) Drain() { s.inner.Drain() }

// failure asks the inner translator for its (chat) error event and
// hands its message to the client's format.
func (s *clientStream) Failure(dst []byte, err error) ([]byte, error) {
	var ret error
	s.tmp, ret = s.inner.Failure(s.tmp[:0], err)
	msg := []byte(nil)
	s.scan(s.tmp)
	for {
		ev, e := s.sc.Next()
		if e != nil {
			break
		}
		if m := jsonx.Str(jsonx.Get(ev.Data, "error"), "message"); m != nil {
			msg = m
			break
		}
		if m := jsonx.Str(ev.Data, "message"); m != nil {
			msg = m
			break
		}
	}
	if msg == nil {
		msg = []byte(jsonEscapedText(ret))
	}
	return s.conv.fail(dst, msg), ret
}

// jsonEscapedText is err's text as JSON string content.
func jsonEscapedText(err error) string {
	if err == nil {
		return "upstream stream error"
	}
	b := jsonx.AppendString(nil, err.Error())
	return string(b[1 : len(b)-1])
}

// clientError rewrites an upstream failure of a translated attempt for
// a client of another API: the upstream's own OpenAI-shaped error body
// cannot be handed over as is, so its message joins the error's.
func clientError(e *Error) *Error {
	if e == nil || len(e.Body) == 0 {
		return e
	}
	if m := jsonx.Str(jsonx.Get(e.Body, "error"), "message"); m != nil {
		var s string
		if err := unquoteJSON(m, &s); err == nil {
			e.Message = fmt.Sprintf("%s: %s", e.Message, s)
		}
	}
	e.Body = nil
	return e
}

func unquoteJSON(content []byte, out *string) error {
	q := make([]byte, 0, len(content)+2)
	q = append(append(append(q, '"'), content...), '"')
	return sonic.Unmarshal(q, out)
}
