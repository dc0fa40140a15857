package anthropic

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/bytedance/sonic"
	"github.com/llmedge/llmedge/internal/errbody"
	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/sse"
	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/transport"
	"github.com/valyala/fasthttp"
)

// anthropicStream translates an Anthropic Messages event stream into
// OpenAI chat.completion.chunk events as they arrive. Every chunk is
// built by appending into one reusable buffer; string values (text,
// thinking, partial tool JSON) are copied as the JSON literals Anthropic
// sent, which are valid OpenAI literals too, so a text delta costs no
// allocation.
type anthropicStream struct {
	x    *transport.Exchange
	resp *fasthttp.Response
	sc   *sse.Scanner
	d    *provider.Endpoint

	includeUsage bool
	// prefix is `data: {"id":...,"object":"chat.completion.chunk","created":N,"model":...`.
	prefix []byte
	buf    []byte
	// toolIndex maps an Anthropic content block index to its OpenAI
	// tool_calls index (-1: not a tool block).
	toolIndex []int
	tools     int
	usage     anUsage
	finish    string
	// out, when set, receives the usage at message_stop (token limits).
	out *provider.Answer
	// started: the role chunk that opens the answer went out.
	started bool
	// text is the text_delta literal of the last event (LastText).
	text []byte
}

var anthropicStreams = sync.Pool{New: func() any { return new(anthropicStream) }}

// release keeps the buffers (bounded) and gives s back to its pool.
func (s *anthropicStream) Release() {
	*s = anthropicStream{prefix: s.prefix[:0], buf: s.buf[:0], toolIndex: s.toolIndex[:0]}
	if cap(s.buf) > 64<<10 {
		s.buf = nil
	}
	if cap(s.toolIndex) > 1<<10 {
		s.toolIndex = nil
	}
	anthropicStreams.Put(s)
}

// anMessageStart is the message_start event's data.
type anMessageStart struct {
	Message struct {
		ID    string  `json:"id"`
		Model string  `json:"model"`
		Usage anUsage `json:"usage"`
	} `json:"message"`
}

// maxContentBlocks bounds a content block index of a stream (Anthropic
// numbers blocks from 0; an answer has a handful).
const maxContentBlocks = 1 << 16

// start receives the first event (message_start) before Chat returns,
// so a stream that fails at once is retried like any other failure.
func (s *anthropicStream) start(d *provider.Endpoint, x *transport.Exchange, uresp *fasthttp.Response, out *provider.Answer, req *provider.Request) *provider.Error {
	ev, err := firstEvent(d, x, uresp, out)
	if err != nil {
		return err
	}
	var ms anMessageStart
	if string(eventType(ev)) != "message_start" || sonic.Unmarshal(ev.Data, &ms) != nil {
		x.MarkFailed()
		x.Release(uresp)
		return &provider.Error{Status: 502, Type: "api_error", Code: "upstream_bad_stream", Retryable: true,
			Message: fmt.Sprintf("upstream deployment %s: stream did not begin with message_start", d.ID)}
	}
	s.x, s.resp, s.sc, s.d = x, uresp, out.SC, d
	s.includeUsage = req.IncludeUsage
	s.usage = ms.Message.Usage
	if req.WantUsage {
		s.out = out
	}
	p := append(s.prefix[:0], `data: {"id":`...)
	p = jsonx.AppendString(p, ms.Message.ID)
	p = append(p, `,"object":"chat.completion.chunk","created":`...)
	p = strconv.AppendInt(p, time.Now().Unix(), 10)
	p = append(p, `,"model":`...)
	p = jsonx.AppendString(p, ms.Message.Model)
	s.prefix = p
	return nil
}

func (s *anthropicStream) Next() ([]byte, bool, error) {
	if !s.started {
		s.started = true
		s.buf = s.openChunk(s.buf[:0])
		s.buf = append(s.buf, `{"role":"assistant","content":""}`...)
		s.buf = s.closeChunk(s.buf, "")
		return s.buf, false, nil
	}
	ev, err := s.sc.Next()
	if err == io.EOF {
		err = io.ErrUnexpectedEOF // ended without message_stop
	}
	if err != nil {
		return nil, false, err
	}
	var done bool
	var evErr *provider.Error
	s.text = nil
	s.buf, done, evErr = s.translate(s.buf[:0], ev)
	if evErr != nil {
		return nil, false, evErr
	}
	return s.buf, done, nil
}

func (s *anthropicStream) Buffered() bool { return s.sc.Buffered() }

// LastText implements provider.TextReporter.
func (s *anthropicStream) LastText() []byte { return s.text }

func (s *anthropicStream) Drain() { transport.DrainStream(s.x, s.sc) }

// failure ends the client's stream with an error event and [DONE]: the
// upstream's own error event, or a transport failure before
// message_stop.
func (s *anthropicStream) Failure(dst []byte, err error) ([]byte, error) {
	var e *provider.Error
	if errors.As(err, &e) {
		dst = errbody.AppendOpenAIEvent(dst, e.Message, e.Type, e.Code)
		return append(dst, sse.Done...), e
	}
	msg, typ, code := provider.MidStreamFailure(s.d, err, "before message_stop")
	dst = errbody.AppendOpenAIEvent(dst, msg, typ, code)
	return append(dst, sse.Done...), fmt.Errorf("%w: %s", err, msg)
}

func (s *anthropicStream) openChunk(b []byte) []byte {
	b = append(b, s.prefix...)
	return append(b, `,"choices":[{"index":0,"delta":`...)
}

func (s *anthropicStream) closeChunk(b []byte, finish string) []byte {
	if finish == "" {
		return append(b, `,"logprobs":null,"finish_reason":null}]}`+"\n\n"...)
	}
	b = append(b, `,"logprobs":null,"finish_reason":"`...)
	b = append(b, finish...)
	return append(b, `"}]}`+"\n\n"...)
}

// deltaChunk appends a chunk whose delta is {"<field>":<lit>}.
func (s *anthropicStream) deltaChunk(b []byte, field string, lit []byte) []byte {
	b = s.openChunk(b)
	b = append(b, `{"`...)
	b = append(b, field...)
	b = append(b, `":`...)
	b = append(b, lit...)
	b = append(b, '}')
	return s.closeChunk(b, "")
}

var errBadEvent = errors.New("malformed anthropic stream event")

// translate appends the OpenAI events for one Anthropic event. done
// means the stream ended ([DONE] appended).
func (s *anthropicStream) translate(b []byte, ev sse.Event) ([]byte, bool, *provider.Error) {
	if ev.Comment {
		return b, false, nil
	}
	data := ev.Data
	switch string(eventType(ev)) {
	case "content_block_delta":
		delta := jsonx.Get(data, "delta")
		typ, val := jsonx.Get2(delta, "type", "text")
		switch string(jsonx.StrVal(typ)) {
		case "text_delta":
			if lit := jsonx.LitVal(val); len(lit) > 2 {
				b = s.deltaChunk(b, "content", lit)
				s.text = lit
			}
		case "thinking_delta":
			if lit := jsonx.Lit(delta, "thinking"); len(lit) > 2 {
				b = s.deltaChunk(b, "reasoning_content", lit)
			}
		case "input_json_delta":
			idx := jsonx.Int(data, "index")
			lit := jsonx.Lit(delta, "partial_json")
			if idx >= 0 && idx < len(s.toolIndex) && s.toolIndex[idx] >= 0 && len(lit) > 2 {
				b = s.openChunk(b)
				b = append(b, `{"tool_calls":[{"index":`...)
				b = strconv.AppendInt(b, int64(s.toolIndex[idx]), 10)
				b = append(b, `,"function":{"arguments":`...)
				b = append(b, lit...)
				b = append(b, `}}]}`...)
				b = s.closeChunk(b, "")
			}
		}
		// signature_delta and citations_delta have no OpenAI form.
	case "content_block_start":
		idx := jsonx.Int(data, "index")
		cb := jsonx.Get(data, "content_block")
		switch string(jsonx.Str(cb, "type")) {
		case "text":
			if lit := jsonx.Lit(cb, "text"); len(lit) > 2 {
				b = s.deltaChunk(b, "content", lit)
			}
		case "thinking":
			if lit := jsonx.Lit(cb, "thinking"); len(lit) > 2 {
				b = s.deltaChunk(b, "reasoning_content", lit)
			}
		case "tool_use":
			id, name := jsonx.Lit(cb, "id"), jsonx.Lit(cb, "name")
			// The index sizes s.toolIndex: bounded, or one bad event
			// could claim any amount of memory.
			if idx < 0 || idx > maxContentBlocks || id == nil || name == nil {
				return b, false, s.badEvent()
			}
			for len(s.toolIndex) <= idx {
				s.toolIndex = append(s.toolIndex, -1)
			}
			s.toolIndex[idx] = s.tools
			b = s.openChunk(b)
			b = append(b, `{"tool_calls":[{"index":`...)
			b = strconv.AppendInt(b, int64(s.tools), 10)
			b = append(b, `,"id":`...)
			b = append(b, id...)
			b = append(b, `,"type":"function","function":{"name":`...)
			b = append(b, name...)
			b = append(b, `,"arguments":""}}]}`...)
			b = s.closeChunk(b, "")
			s.tools++
			// A non-empty input at start (not sent today) would be
			// lost; Anthropic streams input only as input_json_delta.
		}
	case "message_delta":
		if stop := jsonx.Str(jsonx.Get(data, "delta"), "stop_reason"); stop != nil {
			s.finish = provider.FinishReason(stop)
		}
		if u := jsonx.Get(data, "usage"); u != nil {
			if n := jsonx.Int(u, "output_tokens"); n >= 0 {
				s.usage.OutputTokens = n
			}
			if n := jsonx.Int(u, "input_tokens"); n >= 0 {
				s.usage.InputTokens = n
			}
			if n := jsonx.Int(u, "cache_creation_input_tokens"); n >= 0 {
				s.usage.CacheCreationInputTokens = n
			}
			if n := jsonx.Int(u, "cache_read_input_tokens"); n >= 0 {
				s.usage.CacheReadInputTokens = n
			}
		}
	case "message_stop":
		finish := s.finish
		if finish == "" {
			finish = "stop"
		}
		b = s.openChunk(b)
		b = append(b, `{}`...)
		b = s.closeChunk(b, finish)
		if s.out != nil {
			u := s.usage.openAI()
			s.out.Usage = provider.Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, Reported: true,
				CacheReadTokens: u.PromptTokensDetails.CachedTokens, CacheWriteTokens: u.PromptTokensDetails.CacheCreationTokens}
		}
		if s.includeUsage {
			b = append(b, s.prefix...)
			b = append(b, `,"choices":[],"usage":`...)
			b = appendOAUsage(b, s.usage.openAI())
			b = append(b, "}\n\n"...)
		}
		return append(b, sse.Done...), true, nil
	case "ping":
		// Keep the client's connection (and any proxy) alive.
		b = append(b, ": ping\n\n"...)
	case "error":
		e := anthropicEventError(s.d, data)
		return b, false, e
	}
	// content_block_stop, message_start again, unknown events: nothing.
	return b, false, nil
}

func (s *anthropicStream) badEvent() *provider.Error {
	return &provider.Error{Status: 502, Type: "api_error", Code: "upstream_stream_error",
		Message: fmt.Sprintf("upstream deployment %s: %v", s.d.ID, errBadEvent)}
}

func appendOAUsage(b []byte, u oaUsage) []byte {
	b = append(b, `{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(u.PromptTokens), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CompletionTokens), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(u.TotalTokens), 10)
	b = append(b, `,"prompt_tokens_details":{"cached_tokens":`...)
	b = strconv.AppendInt(b, int64(u.PromptTokensDetails.CachedTokens), 10)
	b = append(b, `,"cache_creation_tokens":`...)
	b = strconv.AppendInt(b, int64(u.PromptTokensDetails.CacheCreationTokens), 10)
	b = append(b, `},"cache_creation_input_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CacheCreationInputTokens), 10)
	b = append(b, `,"cache_read_input_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CacheReadInputTokens), 10)
	return append(b, '}')
}
