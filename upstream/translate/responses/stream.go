package responses

import (
	"strconv"

	"github.com/llmedge/llmedge/upstream/translate/chat"
)

// Stream turns a chat.completion.chunk stream into the Responses API's
// named events: response.created and response.in_progress, then per
// output item (reasoning, the message, each function call)
// output_item.added, its deltas (reasoning_summary_text.delta,
// output_text.delta, function_call_arguments.delta) and the matching
// .done events, and response.completed with the whole response. Deltas
// are copied as the upstream's JSON literals; the item texts are kept
// for the .done events and the final document.
type Stream struct {
	m Meta
	// Result is the answer so far; complete once Ended.
	Result
	seq     int
	open    int // index of the open item, -1 none
	started bool
	ended   bool
	// ev reads the chat chunks (its Calls map a chat tool_calls index
	// to its item) and hands their parts to sink.
	ev chat.Events
}

// Reset readies s for a new stream answering for m.
func (s *Stream) Reset(m Meta) {
	s.Result.reset()
	ev := s.ev
	ev.Reset()
	*s = Stream{m: m, Result: s.Result, open: -1, ev: ev}
}

// Meta is the response's meta.
func (s *Stream) Meta() *Meta { return &s.m }

// Ended reports whether response.completed was written.
func (s *Stream) Ended() bool { return s.ended }

// Event appends the Responses events for one chat stream event's data;
// done means the chat stream ended and response.completed was appended.
func (s *Stream) Event(dst, data []byte) (out []byte, done bool) {
	return s.ev.Event((*sink)(s), dst, data)
}

// sink is the Stream as chat.Events' Sink (its methods stay off
// Stream's API).
type sink Stream

func (k *sink) Done(dst []byte) []byte      { return (*Stream)(k).End(dst) }
func (k *sink) Fail(dst, msg []byte) []byte { return (*Stream)(k).AppendError(dst, msg) }
func (k *sink) Usage(u chat.Usage)          { k.usage = u }
func (k *sink) Finish(reason []byte)        { k.finish = append(k.fbuf[:0], reason...) }

func (k *sink) Begin(dst, _ []byte) []byte {
	if !k.started {
		dst = (*Stream)(k).start(dst)
	}
	return dst
}

func (k *sink) Reasoning(dst, lit []byte) []byte {
	s := (*Stream)(k)
	dst = s.ensure(dst, itemReasoning, nil)
	return s.textDelta(dst, "response.reasoning_summary_text.delta", `,"summary_index":0,"delta":`, lit)
}

func (k *sink) Text(dst, lit []byte) []byte {
	s := (*Stream)(k)
	dst = s.ensure(dst, itemMessage, nil)
	return s.textDelta(dst, "response.output_text.delta", `,"content_index":0,"delta":`, lit)
}

// OpenCall opens a function_call (or custom_tool_call) item.
func (k *sink) OpenCall(dst []byte, t *chat.ToolDelta) ([]byte, int) {
	s := (*Stream)(k)
	dst = s.ensure(dst, itemCall, t)
	return dst, s.open
}

// CallArgs keeps an arguments fragment for the item's .done events and
// streams it as function_call_arguments.delta.
func (k *sink) CallArgs(dst []byte, i int, t *chat.ToolDelta) []byte {
	s := (*Stream)(k)
	it := &s.items[i]
	it.text = append(it.text, t.Args[1:len(t.Args)-1]...)
	if it.custom {
		// A custom tool's input is streamed whole at .done: the
		// fragments are of the {"input":...} wrapper.
		return dst
	}
	dst = s.head(dst, "response.function_call_arguments.delta")
	dst = s.itemRef(dst, i)
	dst = append(dst, `,"delta":`...)
	dst = append(dst, t.Args...)
	return append(dst, "}\n\n"...)
}

// End closes the open item and appends response.completed (once).
func (s *Stream) End(dst []byte) []byte {
	if s.ended {
		return dst
	}
	if !s.started {
		dst = s.start(dst)
	}
	dst = s.close(dst)
	s.ended = true
	status := "completed"
	name := "response.completed"
	if s.incomplete() {
		status, name = "incomplete", "response.incomplete"
	}
	dst = s.head(dst, name)
	dst = append(dst, `,"response":`...)
	dst = AppendResponse(dst, &s.m, &s.Result, status)
	return append(dst, "}\n\n"...)
}

// AppendError appends the error event and response.failed; msg is raw
// JSON string content (nil: a generic message).
func (s *Stream) AppendError(dst, msg []byte) []byte {
	s.ended = true
	dst = s.head(dst, "error")
	dst = append(dst, `,"code":"upstream_error","message":"`...)
	if msg == nil {
		msg = []byte("upstream stream error")
	}
	dst = append(dst, msg...)
	dst = append(dst, `","param":null}`+"\n\n"...)
	dst = s.head(dst, "response.failed")
	dst = append(dst, `,"response":`...)
	dst = AppendResponse(dst, &s.m, &s.Result, "failed")
	return append(dst, "}\n\n"...)
}

// head appends "event: name\ndata: {"type":name,"sequence_number":N".
func (s *Stream) head(dst []byte, name string) []byte {
	dst = append(dst, "event: "...)
	dst = append(dst, name...)
	dst = append(dst, "\ndata: {\"type\":\""...)
	dst = append(dst, name...)
	dst = append(dst, `","sequence_number":`...)
	dst = strconv.AppendInt(dst, int64(s.seq), 10)
	s.seq++
	return dst
}

func (s *Stream) start(dst []byte) []byte {
	s.started = true
	for _, name := range [...]string{"response.created", "response.in_progress"} {
		dst = s.head(dst, name)
		dst = append(dst, `,"response":`...)
		dst = AppendResponse(dst, &s.m, &s.Result, "in_progress")
		dst = append(dst, "}\n\n"...)
	}
	return dst
}

func (s *Stream) itemRef(dst []byte, i int) []byte {
	dst = append(dst, `,"item_id":`...)
	dst = appendQuoted(dst, s.items[i].id)
	dst = append(dst, `,"output_index":`...)
	return strconv.AppendInt(dst, int64(i), 10)
}

// ensure opens an item of kind k unless one is open (a call always
// opens a new one).
func (s *Stream) ensure(dst []byte, k itemKind, t *chat.ToolDelta) []byte {
	if s.open >= 0 && s.open < s.n && s.items[s.open].kind == k && k != itemCall {
		return dst
	}
	dst = s.close(dst)
	it := s.add(k, &s.m)
	s.open = s.n - 1
	if t != nil {
		if t.ID != nil {
			it.callID = append(it.callID, t.ID[1:len(t.ID)-1]...)
		} else {
			it.callID = append(append(it.callID, "call_"...), it.id...)
		}
		if t.Name != nil {
			it.name = append(it.name, t.Name[1:len(t.Name)-1]...)
			it.custom = s.m.Custom[string(it.name)]
		}
	}
	dst = s.head(dst, "response.output_item.added")
	dst = append(dst, `,"output_index":`...)
	dst = strconv.AppendInt(dst, int64(s.open), 10)
	dst = append(dst, `,"item":`...)
	dst = appendItem(dst, it, "in_progress")
	dst = append(dst, "}\n\n"...)
	switch k {
	case itemMessage:
		dst = s.head(dst, "response.content_part.added")
		dst = s.itemRef(dst, s.open)
		dst = append(dst, `,"content_index":0,"part":{"type":"output_text","text":"","annotations":[],"logprobs":[]}}`+"\n\n"...)
	case itemReasoning:
		dst = s.head(dst, "response.reasoning_summary_part.added")
		dst = s.itemRef(dst, s.open)
		dst = append(dst, `,"summary_index":0,"part":{"type":"summary_text","text":""}}`+"\n\n"...)
	}
	return dst
}

func (s *Stream) textDelta(dst []byte, name, mid string, lit []byte) []byte {
	it := &s.items[s.open]
	it.text = append(it.text, lit[1:len(lit)-1]...)
	dst = s.head(dst, name)
	dst = s.itemRef(dst, s.open)
	dst = append(dst, mid...)
	dst = append(dst, lit...)
	if name == "response.output_text.delta" {
		dst = append(dst, `,"logprobs":[]`...)
	}
	return append(dst, "}\n\n"...)
}

// close ends the open item with its .done events.
func (s *Stream) close(dst []byte) []byte {
	if s.open < 0 || s.open >= s.n {
		return dst
	}
	i := s.open
	s.open = -1
	it := &s.items[i]
	switch it.kind {
	case itemMessage:
		dst = s.head(dst, "response.output_text.done")
		dst = s.itemRef(dst, i)
		dst = append(dst, `,"content_index":0,"text":`...)
		dst = appendQuoted(dst, it.text)
		dst = append(dst, `,"logprobs":[]}`+"\n\n"...)
		dst = s.head(dst, "response.content_part.done")
		dst = s.itemRef(dst, i)
		dst = append(dst, `,"content_index":0,"part":`...)
		dst = appendTextPart(dst, it.text)
		dst = append(dst, "}\n\n"...)
	case itemReasoning:
		dst = s.head(dst, "response.reasoning_summary_text.done")
		dst = s.itemRef(dst, i)
		dst = append(dst, `,"summary_index":0,"text":`...)
		dst = appendQuoted(dst, it.text)
		dst = append(dst, "}\n\n"...)
		dst = s.head(dst, "response.reasoning_summary_part.done")
		dst = s.itemRef(dst, i)
		dst = append(dst, `,"summary_index":0,"part":{"type":"summary_text","text":`...)
		dst = appendQuoted(dst, it.text)
		dst = append(dst, "}}\n\n"...)
	case itemCall:
		if !it.custom {
			dst = s.head(dst, "response.function_call_arguments.done")
			dst = s.itemRef(dst, i)
			dst = append(dst, `,"arguments":`...)
			dst = appendQuoted(dst, it.text)
			dst = append(dst, "}\n\n"...)
		}
	}
	dst = s.head(dst, "response.output_item.done")
	dst = append(dst, `,"output_index":`...)
	dst = strconv.AppendInt(dst, int64(i), 10)
	dst = append(dst, `,"item":`...)
	dst = appendItem(dst, it, "completed")
	return append(dst, "}\n\n"...)
}
