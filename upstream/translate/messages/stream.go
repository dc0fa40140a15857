package messages

import (
	"strconv"

	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/upstream/translate/chat"
)

// Stream turns a chat.completion.chunk stream into Anthropic's event
// sequence: message_start and ping, then for each run of text,
// reasoning or one tool call a content_block_start, its deltas
// (text_delta, thinking_delta, input_json_delta) and
// content_block_stop, then message_delta (stop_reason, usage) and
// message_stop. String values are copied as the JSON literals the
// upstream sent (valid in both formats), so a text delta costs no
// allocation. The zero value is ready after Reset.
type Stream struct {
	model string
	// open is the kind of the open content block; index its Anthropic
	// index (blocks counts the blocks started).
	open   blockKind
	index  int
	blocks int
	// ev reads the chat chunks (its Calls map a chat tool_calls index
	// to its content block) and hands their parts to sink.
	ev        chat.Events
	finish    []byte
	finishBuf [16]byte
	usage     chat.Usage
	started   bool
	ended     bool
}

type blockKind uint8

const (
	blockNone blockKind = iota
	blockText
	blockThinking
	blockTool
)

// Reset readies s for a new stream answering for model (the client's
// model name).
func (s *Stream) Reset(model string) {
	ev := s.ev
	ev.Reset()
	*s = Stream{model: model, ev: ev}
}

// Ended reports whether message_stop was written.
func (s *Stream) Ended() bool { return s.ended }

// Event appends the Anthropic events for one chat stream event's data;
// done means the chat stream ended ([DONE]) and the closing events were
// appended.
func (s *Stream) Event(dst, data []byte) (out []byte, done bool) {
	return s.ev.Event((*sink)(s), dst, data)
}

// sink is the Stream as chat.Events' Sink (its methods stay off
// Stream's API).
type sink Stream

func (k *sink) Done(dst []byte) []byte      { return (*Stream)(k).End(dst) }
func (k *sink) Fail(dst, msg []byte) []byte { return AppendErrorEvent(dst, "api_error", msg) }
func (k *sink) Usage(u chat.Usage)          { k.usage = u }
func (k *sink) Finish(reason []byte)        { k.finish = append(k.finishBuf[:0], reason...) }

func (k *sink) Begin(dst, id []byte) []byte {
	if !k.started {
		dst = (*Stream)(k).appendStart(dst, id)
	}
	return dst
}

func (k *sink) Reasoning(dst, lit []byte) []byte {
	s := (*Stream)(k)
	dst = s.ensure(dst, blockThinking, nil)
	return s.delta(dst, `{"type":"thinking_delta","thinking":`, lit)
}

func (k *sink) Text(dst, lit []byte) []byte {
	s := (*Stream)(k)
	dst = s.ensure(dst, blockText, nil)
	return s.delta(dst, `{"type":"text_delta","text":`, lit)
}

// OpenCall opens a tool_use block for a new call.
func (k *sink) OpenCall(dst []byte, t *chat.ToolDelta) ([]byte, int) {
	s := (*Stream)(k)
	dst = s.ensure(dst, blockTool, t)
	return dst, s.index
}

// CallArgs streams arguments as input_json_delta on the call's block.
func (k *sink) CallArgs(dst []byte, block int, t *chat.ToolDelta) []byte {
	return (*Stream)(k).deltaAt(dst, block, `{"type":"input_json_delta","partial_json":`, t.Args)
}

// End appends the closing events (once): it closes the open block and
// writes message_delta and message_stop. A stream that ended without
// [DONE] after its finish_reason is complete too.
func (s *Stream) End(dst []byte) []byte {
	if s.ended {
		return dst
	}
	if !s.started {
		dst = s.appendStart(dst, nil)
	}
	dst = s.close(dst)
	s.ended = true
	stop := StopReason(s.finish)
	if s.ev.Calls.Seen && stop == "end_turn" {
		stop = "tool_use"
	}
	dst = append(dst, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\""...)
	dst = append(dst, stop...)
	dst = append(dst, `","stop_sequence":null},"usage":`...)
	dst = AppendUsage(dst, s.usage)
	dst = append(dst, "}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"...)
	return dst
}

func (s *Stream) appendStart(dst, id []byte) []byte {
	s.started = true
	dst = append(dst, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_"...)
	if len(id) == 0 || !plainID(id) {
		dst = append(dst, "llmedge"...)
	} else {
		if len(id) > 4 && string(id[:4]) == "msg_" {
			id = id[4:]
		}
		dst = append(dst, id...)
	}
	dst = append(dst, `","type":"message","role":"assistant","model":`...)
	dst = jsonx.AppendString(dst, s.model)
	dst = append(dst, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}`+"\n\n"...)
	return append(dst, "event: ping\ndata: {\"type\":\"ping\"}\n\n"...)
}

// plainID: an id copied into the event without escaping.
func plainID(id []byte) bool {
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// ensure opens a block of kind k unless one is open (a tool block is
// opened by every new call).
func (s *Stream) ensure(dst []byte, k blockKind, tool *chat.ToolDelta) []byte {
	if s.open == k && k != blockTool {
		return dst
	}
	dst = s.close(dst)
	s.open, s.index = k, s.blocks
	s.blocks++
	dst = append(dst, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":"...)
	dst = strconv.AppendInt(dst, int64(s.index), 10)
	switch k {
	case blockText:
		dst = append(dst, `,"content_block":{"type":"text","text":""}}`...)
	case blockThinking:
		dst = append(dst, `,"content_block":{"type":"thinking","thinking":"","signature":""}}`...)
	case blockTool:
		dst = append(dst, `,"content_block":{"type":"tool_use","id":`...)
		if tool.ID != nil {
			dst = append(dst, tool.ID...)
		} else {
			// A server that numbers calls without ids: Claude Code needs
			// one to answer the call.
			dst = append(dst, `"toolu_llmedge_`...)
			dst = strconv.AppendInt(dst, int64(s.index), 10)
			dst = append(dst, '"')
		}
		dst = append(dst, `,"name":`...)
		if tool.Name != nil {
			dst = append(dst, tool.Name...)
		} else {
			dst = append(dst, `""`...)
		}
		dst = append(dst, `,"input":{}}}`...)
	}
	return append(dst, "\n\n"...)
}

func (s *Stream) close(dst []byte) []byte {
	if s.open == blockNone {
		return dst
	}
	s.open = blockNone
	dst = append(dst, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":"...)
	dst = strconv.AppendInt(dst, int64(s.index), 10)
	return append(dst, "}\n\n"...)
}

// delta appends a content_block_delta for the open block: head is the
// delta object up to its value, lit the value's literal.
func (s *Stream) delta(dst []byte, head string, lit []byte) []byte {
	return s.deltaAt(dst, s.index, head, lit)
}

func (s *Stream) deltaAt(dst []byte, index int, head string, lit []byte) []byte {
	dst = append(dst, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":"...)
	dst = strconv.AppendInt(dst, int64(index), 10)
	dst = append(dst, `,"delta":`...)
	dst = append(dst, head...)
	dst = append(dst, lit...)
	return append(dst, "}}\n\n"...)
}

// AppendErrorEvent appends Anthropic's stream error event; msg is a
// raw JSON string content (escapes kept) or nil.
func AppendErrorEvent(dst []byte, typ string, msg []byte) []byte {
	dst = append(dst, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":"...)
	dst = jsonx.AppendString(dst, typ)
	dst = append(dst, `,"message":"`...)
	if msg == nil {
		msg = []byte("upstream stream error")
	}
	dst = append(dst, msg...)
	return append(dst, "\"}}\n\n"...)
}
