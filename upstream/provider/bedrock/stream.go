package bedrock

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/bytedance/sonic"
	"github.com/llmedge/llmedge/internal/errbody"
	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/sse"
	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/transport"
	"github.com/valyala/fasthttp"
)

// cvStreamEvent is the payload of any ConverseStream event (messageStart,
// contentBlockStart, contentBlockDelta, contentBlockStop, messageStop,
// metadata); which fields are set depends on :event-type.
type cvStreamEvent struct {
	ContentBlockIndex int `json:"contentBlockIndex"`
	Start             *struct {
		ToolUse *struct {
			ToolUseID string `json:"toolUseId"`
			Name      string `json:"name"`
		} `json:"toolUse"`
	} `json:"start"`
	Delta *struct {
		Text    *string `json:"text"`
		ToolUse *struct {
			Input string `json:"input"`
		} `json:"toolUse"`
		ReasoningContent *struct {
			Text *string `json:"text"`
		} `json:"reasoningContent"`
	} `json:"delta"`
	StopReason string   `json:"stopReason"`
	Usage      *cvUsage `json:"usage"`
}

// bedrockStream relays a ConverseStream answer as OpenAI
// chat.completion.chunk events.
type bedrockStream struct {
	d       *provider.Endpoint
	x       *transport.Exchange
	resp    *fasthttp.Response
	dec     *esDecoder
	first   *esMessage
	id      string
	created int64
	// model is the client's model name, copied: the client's body,
	// where it was, goes when the stream starts.
	model        []byte
	includeUsage bool
	// usage receives the metadata event's counts (Response.Usage).
	usage *provider.Usage

	// tools maps a content block index to its OpenAI tool call index.
	tools    []int
	nTools   int
	buf      []byte
	ev       cvStreamEvent
	finished bool
	// started: first has been translated.
	started bool
	// textAt and textEnd delimit the text literal of the last event in
	// buf (LastText; equal when it had none).
	textAt, textEnd int
}

var bedrockStreams = sync.Pool{New: func() any { return new(bedrockStream) }}

// release keeps the buffers (up to a bound: a pooled translator must
// not pin one huge event's buffer) and gives s back to its pool.
func (s *bedrockStream) Release() {
	*s = bedrockStream{buf: s.buf[:0], tools: s.tools[:0], model: s.model[:0]}
	if cap(s.buf) > 64<<10 {
		s.buf = nil
	}
	if cap(s.tools) > 1<<10 {
		s.tools = nil
	}
	bedrockStreams.Put(s)
}

func (s *bedrockStream) Next() ([]byte, bool, error) {
	msg := s.first
	if s.started {
		var err error
		msg, err = s.dec.Next()
		if err == io.EOF && !s.finished {
			// The body ended cleanly but the answer did not: a truncated
			// answer must not look complete.
			return nil, false, &provider.Error{Status: 502, Type: "api_error", Code: "upstream_stream_error",
				Message: fmt.Sprintf("upstream deployment %s closed the stream before messageStop", s.d.ID)}
		}
		if err == io.EOF {
			return sse.Done, true, nil
		}
		if err != nil {
			return nil, false, err
		}
	}
	s.started = true
	if e := streamException(s.d, msg); e != nil {
		return nil, false, e
	}
	s.buf = s.buf[:0]
	s.textAt, s.textEnd = 0, 0
	if err := s.translate(msg); err != nil {
		return nil, false, err
	}
	return s.buf, false, nil
}

func (s *bedrockStream) Buffered() bool { return s.dec.Buffered() }

// LastText implements provider.TextReporter.
func (s *bedrockStream) LastText() []byte {
	if s.textEnd == s.textAt {
		return nil
	}
	return s.buf[s.textAt:s.textEnd]
}

// drain has nothing to read: a Converse stream ends at the end of its
// body.
func (s *bedrockStream) Drain() {}

// failure ends the client's stream with an error event and [DONE]: a
// Bedrock exception or a truncated answer as the *provider.Error it maps to, a
// transport failure as for any stream.
func (s *bedrockStream) Failure(dst []byte, err error) ([]byte, error) {
	var ue *provider.Error
	if errors.As(err, &ue) {
		dst = errbody.AppendOpenAIEvent(dst, ue.Message, ue.Type, ue.Code)
		return append(dst, sse.Done...), ue
	}
	if errors.Is(err, errEventStream) {
		err = fmt.Errorf("%w from bedrock", err)
	}
	msg, typ, code := provider.MidStreamFailure(s.d, err, "mid-event")
	dst = provider.AppendFailureEvent(dst, false, msg, typ, code)
	if errors.Is(err, transport.ErrTimeout) {
		return dst, fmt.Errorf("%w: %s", err, msg)
	}
	return dst, err
}

// chunk appends the start of a chunk event up to "choices".
func (s *bedrockStream) chunk() {
	b := append(s.buf, `data: {"id":"`...)
	b = append(b, s.id...)
	b = append(b, `","object":"chat.completion.chunk","created":`...)
	b = strconv.AppendInt(b, s.created, 10)
	b = append(b, `,"model":`...)
	s.buf = jsonx.AppendString(b, s.model)
}

// openDelta appends a chunk with one choice up to the inside of its
// delta object; closeDelta ends it.
func (s *bedrockStream) openDelta() {
	s.chunk()
	s.buf = append(s.buf, `,"choices":[{"index":0,"delta":{`...)
}

func (s *bedrockStream) closeDelta(finish string) {
	b := append(s.buf, `},"logprobs":null,"finish_reason":`...)
	if finish == "" {
		b = append(b, "null"...)
	} else {
		b = append(append(append(b, '"'), finish...), '"')
	}
	s.buf = append(b, "}]}\n\n"...)
}

// translate appends the OpenAI events for one ConverseStream event.
func (s *bedrockStream) translate(m *esMessage) error {
	typ := m.Header(":event-type")
	if string(typ) == "contentBlockDelta" {
		// Fast path for text, by far the most frequent event: the
		// text's JSON literal is copied as is (validated by the scan),
		// no decoding.
		if lit := jsonx.Lit(jsonx.Get(m.Payload, "delta"), "text"); lit != nil {
			s.openDelta()
			s.buf = append(s.buf, `"content":`...)
			s.textAt = len(s.buf)
			s.buf = append(s.buf, lit...)
			s.textEnd = len(s.buf)
			s.closeDelta("")
			return nil
		}
	}
	s.ev = cvStreamEvent{}
	if err := sonic.Unmarshal(m.Payload, &s.ev); err != nil {
		return fmt.Errorf("bad %s event payload: %s", typ, firstLine(err.Error()))
	}
	ev := &s.ev
	switch string(typ) {
	case "messageStart":
		s.openDelta()
		s.buf = append(s.buf, `"role":"assistant","content":""`...)
		s.closeDelta("")
	case "contentBlockStart":
		if ev.Start == nil || ev.Start.ToolUse == nil {
			return nil
		}
		tu := ev.Start.ToolUse
		idx := s.toolIndex(ev.ContentBlockIndex, true)
		s.openDelta()
		b := append(s.buf, `"tool_calls":[{"index":`...)
		b = strconv.AppendInt(b, int64(idx), 10)
		b = append(b, `,"id":`...)
		b = jsonx.AppendString(b, tu.ToolUseID)
		b = append(b, `,"type":"function","function":{"name":`...)
		b = jsonx.AppendString(b, tu.Name)
		s.buf = append(b, `,"arguments":""}}]`...)
		s.closeDelta("")
	case "contentBlockDelta":
		if ev.Delta == nil {
			return nil
		}
		switch {
		case ev.Delta.Text != nil:
			s.openDelta()
			s.buf = append(s.buf, `"content":`...)
			s.textAt = len(s.buf)
			s.buf = jsonx.AppendString(s.buf, *ev.Delta.Text)
			s.textEnd = len(s.buf)
			s.closeDelta("")
		case ev.Delta.ToolUse != nil:
			idx := s.toolIndex(ev.ContentBlockIndex, false)
			s.openDelta()
			b := append(s.buf, `"tool_calls":[{"index":`...)
			b = strconv.AppendInt(b, int64(idx), 10)
			b = append(b, `,"function":{"arguments":`...)
			b = jsonx.AppendString(b, ev.Delta.ToolUse.Input)
			s.buf = append(b, "}}]"...)
			s.closeDelta("")
		case ev.Delta.ReasoningContent != nil && ev.Delta.ReasoningContent.Text != nil:
			s.openDelta()
			s.buf = jsonx.AppendString(append(s.buf, `"reasoning_content":`...), *ev.Delta.ReasoningContent.Text)
			s.closeDelta("")
		}
	case "messageStop":
		s.finished = true
		s.openDelta()
		s.closeDelta(provider.FinishReason(ev.StopReason))
	case "metadata":
		if ev.Usage != nil && s.usage != nil {
			u := ev.Usage
			*s.usage = provider.Usage{PromptTokens: u.InputTokens + u.CacheReadInputTokens + u.CacheWriteInputTokens, CompletionTokens: u.OutputTokens, Reported: true,
				CacheReadTokens: u.CacheReadInputTokens, CacheWriteTokens: u.CacheWriteInputTokens}
		}
		if s.includeUsage && ev.Usage != nil {
			s.chunk()
			s.buf = append(s.buf, `,"choices":[],`...)
			s.buf = appendOpenAIUsage(s.buf, ev.Usage)
			s.buf = append(s.buf, "}\n\n"...)
		}
	}
	return nil
}

// toolIndex returns the OpenAI tool call index of a content block,
// assigning the next one when add is set.
func (s *bedrockStream) toolIndex(block int, add bool) int {
	if block < 0 || block > 1<<16 {
		return 0
	}
	for len(s.tools) <= block {
		s.tools = append(s.tools, -1)
	}
	if s.tools[block] < 0 && add {
		s.tools[block] = s.nTools
		s.nTools++
	}
	if s.tools[block] < 0 {
		return 0
	}
	return s.tools[block]
}
