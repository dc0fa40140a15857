package responses

import (
	"strconv"

	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/upstream/translate/chat"
)

// Meta is what a response document repeats of its request, and its id.
type Meta struct {
	ID        string
	CreatedAt int64
	// Model is the model name the client asked for.
	Model              string
	Instructions       string
	PreviousResponseID string
	Store              bool
	// Custom names the custom tools, whose calls are custom_tool_call.
	Custom map[string]bool
}

// NewMeta is r's Meta for a response with id.
func NewMeta(r *Request, id string, createdAt int64) Meta {
	return Meta{ID: id, CreatedAt: createdAt, Model: r.Model, Instructions: r.Instructions,
		PreviousResponseID: r.PreviousResponseID, Store: r.Store == nil || *r.Store, Custom: r.CustomTools()}
}

type itemKind uint8

const (
	itemMessage itemKind = iota
	itemReasoning
	itemCall
)

// item is one output item. Text, CallID and Name hold JSON string
// contents with their escapes, as the upstream sent them.
type item struct {
	kind         itemKind
	id           []byte
	callID, name []byte
	text         []byte
	custom       bool
}

// Result is a translated answer: its output items, usage and how it
// ended. Buffers are kept across Reset.
type Result struct {
	items  []item
	n      int
	usage  chat.Usage
	finish []byte
	fbuf   [16]byte
}

func (r *Result) reset() {
	for i := range r.items {
		it := &r.items[i]
		*it = item{id: it.id[:0], callID: it.callID[:0], name: it.name[:0], text: it.text[:0]}
	}
	r.n, r.usage, r.finish = 0, chat.Usage{}, nil
}

// add starts an output item of kind k with id prefix+meta id+index.
func (r *Result) add(k itemKind, m *Meta) *item {
	if r.n == len(r.items) {
		r.items = append(r.items, item{})
	}
	it := &r.items[r.n]
	it.kind = k
	prefix := "msg_"
	switch k {
	case itemReasoning:
		prefix = "rs_"
	case itemCall:
		prefix = "fc_"
	}
	it.id = append(it.id[:0], prefix...)
	it.id = append(it.id, idSuffix(m.ID)...)
	it.id = append(it.id, '_')
	it.id = strconv.AppendInt(it.id, int64(r.n), 10)
	r.n++
	return it
}

func idSuffix(id string) string {
	if len(id) > 5 && id[:5] == "resp_" {
		return id[5:]
	}
	return id
}

func (r *Result) incomplete() bool { return string(r.finish) == "length" }

// AppendResponse appends the response document with status (completed,
// incomplete or in_progress; in_progress lists no output).
func AppendResponse(dst []byte, m *Meta, r *Result, status string) []byte {
	if status == "completed" && r.incomplete() {
		status = "incomplete"
	}
	dst = append(dst, `{"id":`...)
	dst = jsonx.AppendString(dst, m.ID)
	dst = append(dst, `,"object":"response","created_at":`...)
	dst = strconv.AppendInt(dst, m.CreatedAt, 10)
	dst = append(dst, `,"status":"`...)
	dst = append(dst, status...)
	dst = append(dst, `","error":null,"incomplete_details":`...)
	if status == "incomplete" {
		dst = append(dst, `{"reason":"max_output_tokens"}`...)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"instructions":`...)
	if m.Instructions == "" {
		dst = append(dst, "null"...)
	} else {
		dst = jsonx.AppendString(dst, m.Instructions)
	}
	dst = append(dst, `,"model":`...)
	dst = jsonx.AppendString(dst, m.Model)
	dst = append(dst, `,"output":[`...)
	if status != "in_progress" {
		for i := 0; i < r.n; i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendItem(dst, &r.items[i], "completed")
		}
	}
	dst = append(dst, `],"parallel_tool_calls":true,"previous_response_id":`...)
	if m.PreviousResponseID == "" {
		dst = append(dst, "null"...)
	} else {
		dst = jsonx.AppendString(dst, m.PreviousResponseID)
	}
	dst = append(dst, `,"store":`...)
	dst = strconv.AppendBool(dst, m.Store)
	dst = append(dst, `,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"usage":`...)
	if status == "in_progress" {
		dst = append(dst, "null"...)
	} else {
		dst = appendUsage(dst, r.usage)
	}
	return append(dst, '}')
}

func appendUsage(dst []byte, u chat.Usage) []byte {
	dst = append(dst, `{"input_tokens":`...)
	dst = strconv.AppendInt(dst, int64(u.Prompt), 10)
	dst = append(dst, `,"input_tokens_details":{"cached_tokens":`...)
	dst = strconv.AppendInt(dst, int64(u.Cached), 10)
	dst = append(dst, `},"output_tokens":`...)
	dst = strconv.AppendInt(dst, int64(u.Completion), 10)
	dst = append(dst, `,"output_tokens_details":{"reasoning_tokens":`...)
	dst = strconv.AppendInt(dst, int64(u.Reasoning), 10)
	dst = append(dst, `},"total_tokens":`...)
	dst = strconv.AppendInt(dst, int64(u.Prompt+u.Completion), 10)
	return append(dst, '}')
}

func appendQuoted(dst, content []byte) []byte {
	dst = append(dst, '"')
	dst = append(dst, content...)
	return append(dst, '"')
}

// appendItem appends an output item as output_item.added (status
// in_progress, empty) or .done and response.output list it (completed).
func appendItem(dst []byte, it *item, status string) []byte {
	done := status == "completed"
	switch it.kind {
	case itemMessage:
		dst = append(dst, `{"type":"message","id":`...)
		dst = appendQuoted(dst, it.id)
		dst = append(dst, `,"status":"`...)
		dst = append(dst, status...)
		dst = append(dst, `","role":"assistant","content":[`...)
		if done {
			dst = appendTextPart(dst, it.text)
		}
		return append(dst, "]}"...)
	case itemReasoning:
		dst = append(dst, `{"type":"reasoning","id":`...)
		dst = appendQuoted(dst, it.id)
		dst = append(dst, `,"summary":[`...)
		if done {
			dst = append(dst, `{"type":"summary_text","text":`...)
			dst = appendQuoted(dst, it.text)
			dst = append(dst, '}')
		}
		return append(dst, "]}"...)
	}
	if it.custom {
		dst = append(dst, `{"type":"custom_tool_call","id":`...)
	} else {
		dst = append(dst, `{"type":"function_call","id":`...)
	}
	dst = appendQuoted(dst, it.id)
	dst = append(dst, `,"call_id":`...)
	dst = appendQuoted(dst, it.callID)
	dst = append(dst, `,"name":`...)
	dst = appendQuoted(dst, it.name)
	if it.custom {
		dst = append(dst, `,"input":`...)
		if done {
			dst = jsonx.AppendString(dst, customInput(it.text))
		} else {
			dst = append(dst, `""`...)
		}
	} else {
		dst = append(dst, `,"arguments":`...)
		if done {
			dst = appendQuoted(dst, it.text)
		} else {
			dst = append(dst, `""`...)
		}
	}
	dst = append(dst, `,"status":"`...)
	dst = append(dst, status...)
	return append(dst, `"}`...)
}

func appendTextPart(dst, text []byte) []byte {
	dst = append(dst, `{"type":"output_text","text":`...)
	dst = appendQuoted(dst, text)
	return append(dst, `,"annotations":[],"logprobs":[]}`...)
}

// AppendConversation appends the chat messages to store for a
// continuation: input (the turn's input as chat messages, JSON array)
// and the assistant's answer.
func AppendConversation(dst, history, input []byte, r *Result) []byte {
	dst = append(dst, '[')
	dst = appendArrayBody(dst, history)
	if len(dst) > 1 && len(trimArray(input)) > 0 {
		dst = append(dst, ',')
	}
	dst = appendArrayBody(dst, input)
	if len(dst) > 1 {
		dst = append(dst, ',')
	}
	dst = append(dst, `{"role":"assistant","content":`...)
	text := false
	for i := 0; i < r.n; i++ {
		if r.items[i].kind == itemMessage {
			dst = appendQuoted(dst, r.items[i].text)
			text = true
			break
		}
	}
	if !text {
		dst = append(dst, "null"...)
	}
	calls := 0
	for i := 0; i < r.n; i++ {
		it := &r.items[i]
		if it.kind != itemCall {
			continue
		}
		if calls == 0 {
			dst = append(dst, `,"tool_calls":[`...)
		} else {
			dst = append(dst, ',')
		}
		calls++
		dst = append(dst, `{"id":`...)
		dst = appendQuoted(dst, it.callID)
		dst = append(dst, `,"type":"function","function":{"name":`...)
		dst = appendQuoted(dst, it.name)
		dst = append(dst, `,"arguments":`...)
		dst = appendQuoted(dst, it.text)
		dst = append(dst, "}}"...)
	}
	if calls > 0 {
		dst = append(dst, ']')
	}
	return append(dst, "}]"...)
}

func trimArray(a []byte) []byte {
	i := jsonx.SkipSpace(a, 0)
	j := len(a)
	for j > i && (a[j-1] == ' ' || a[j-1] == '\n' || a[j-1] == '\r' || a[j-1] == '\t') {
		j--
	}
	if j-i < 2 || a[i] != '[' || a[j-1] != ']' {
		return nil
	}
	inner := a[i+1 : j-1]
	k := jsonx.SkipSpace(inner, 0)
	return inner[k:]
}

func appendArrayBody(dst, a []byte) []byte { return append(dst, trimArray(a)...) }
