package chat

import "github.com/llmedge/llmedge/internal/jsonx"

// Events reads a chat.completion.chunk stream for a client translator
// (messages, responses) and hands each chunk's parts, in order, to the
// translator's Sink: the one event loop both client APIs share. It
// keeps the chunk being read and the stream's tool calls; it
// allocates nothing per event.
type Events struct {
	ck Chunk
	td ToolDelta
	// Calls maps the chat tool_calls indexes to the sink's slots.
	Calls Calls
}

// Sink is what a client translator does with the parts of a chat
// chunk. dst-taking methods append the client's events to dst; lit
// values are JSON string literals as the upstream sent them.
type Sink interface {
	// Done appends what closes the client's stream ([DONE] arrived).
	Done(dst []byte) []byte
	// Fail appends the client's error event for an error chunk; msg is
	// raw JSON string content, or nil.
	Fail(dst, msg []byte) []byte
	// Begin runs before every chunk's parts: the sink opens its stream
	// on the first (id: the chunk's "id" literal content, or nil).
	Begin(dst, id []byte) []byte
	Usage(u Usage)
	Reasoning(dst, lit []byte) []byte
	Text(dst, lit []byte) []byte
	// OpenCall starts a tool call (a tool_calls entry with an id) and
	// returns the slot its arguments go to.
	OpenCall(dst []byte, t *ToolDelta) (out []byte, slot int)
	// CallArgs appends an arguments fragment (t.Args) of the call in slot.
	CallArgs(dst []byte, slot int, t *ToolDelta) []byte
	Finish(reason []byte)
}

// Reset readies e for a new stream, keeping its buffers.
func (e *Events) Reset() {
	calls := e.Calls
	calls.Reset()
	*e = Events{Calls: calls}
}

// Event dispatches one chat stream event's data to s; done means the
// chat stream ended ([DONE] or an error chunk) and s closed the
// client's stream.
func (e *Events) Event(s Sink, dst, data []byte) (out []byte, done bool) {
	if string(data) == "[DONE]" {
		return s.Done(dst), true
	}
	c := &e.ck
	ReadChunk(data, c)
	if c.Error != nil {
		return s.Fail(dst, jsonx.Str(c.Error, "message")), true
	}
	dst = s.Begin(dst, c.ID)
	if c.Usage != nil {
		s.Usage(ReadUsage(c.Usage))
	}
	if c.Reasoning != nil {
		dst = s.Reasoning(dst, c.Reasoning)
	}
	if c.Content != nil {
		dst = s.Text(dst, c.Content)
	}
	for el, i := NextElem(c.ToolCalls, 0); el != nil; el, i = NextElem(c.ToolCalls, i) {
		dst = e.toolCall(s, dst, el)
	}
	if c.Finish != nil {
		s.Finish(c.Finish)
	}
	return dst, false
}

// toolCall handles one tool_calls entry: a new call (it has an id) is
// opened, arguments go to the call's slot.
func (e *Events) toolCall(s Sink, dst, el []byte) []byte {
	t := &e.td
	opens, ok := e.Calls.Read(el, t)
	if !ok {
		return dst
	}
	if opens {
		var slot int
		dst, slot = s.OpenCall(dst, t)
		e.Calls.Bind(t.Index, slot)
	}
	if slot := e.Calls.Slot(t.Index); slot >= 0 && t.Args != nil {
		dst = s.CallArgs(dst, slot, t)
	}
	return dst
}
