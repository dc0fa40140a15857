package messages

import (
	"strconv"
	"strings"

	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/upstream/translate/chat"
)

// StopReason maps a chat finish_reason to Anthropic's stop_reason.
func StopReason[S ~string | ~[]byte](finish S) string {
	switch string(finish) {
	case "length":
		return "max_tokens"
	case "tool_calls", "function_call":
		return "tool_use"
	case "content_filter":
		return "refusal"
	}
	return "end_turn"
}

// MessageID is the Anthropic message id for a chat answer's id.
func MessageID[S ~string | ~[]byte](id S) string {
	if strings.HasPrefix(string(id), "msg_") {
		return string(id)
	}
	if len(id) == 0 {
		return "msg_llmedge"
	}
	return "msg_" + string(id)
}

// AppendAnswer appends the Anthropic message for a chat.completion
// body; model is the name the client asked for.
func AppendAnswer(dst, body []byte, model string) ([]byte, error) {
	a, err := chat.DecodeAnswer(body)
	if err != nil {
		return dst, err
	}
	dst = append(dst, `{"id":`...)
	dst = jsonx.AppendString(dst, MessageID(a.ID))
	dst = append(dst, `,"type":"message","role":"assistant","model":`...)
	dst = jsonx.AppendString(dst, model)
	dst = append(dst, `,"content":[`...)
	n := 0
	sep := func() {
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
	}
	if r := a.ReasoningText(); r != "" {
		sep()
		dst = append(dst, `{"type":"thinking","thinking":`...)
		dst = jsonx.AppendString(dst, r)
		dst = append(dst, `,"signature":""}`...)
	}
	if t := a.Text(); t != "" {
		sep()
		dst = append(dst, `{"type":"text","text":`...)
		dst = jsonx.AppendString(dst, t)
		dst = append(dst, '}')
	}
	for _, c := range a.Calls() {
		sep()
		dst = append(dst, `{"type":"tool_use","id":`...)
		dst = jsonx.AppendString(dst, c.ID)
		dst = append(dst, `,"name":`...)
		dst = jsonx.AppendString(dst, c.Function.Name)
		dst = append(dst, `,"input":`...)
		dst = append(dst, chat.ArgsObject(c.Function.Arguments)...)
		dst = append(dst, '}')
	}
	stop := StopReason(a.Finish())
	if len(a.Calls()) > 0 && a.Finish() == "stop" {
		// Some servers say "stop" after a tool call: Claude Code waits
		// for tool_use to run the tool.
		stop = "tool_use"
	}
	dst = append(dst, `],"stop_reason":"`...)
	dst = append(dst, stop...)
	dst = append(dst, `","stop_sequence":null,"usage":`...)
	dst = AppendUsage(dst, chat.ReadUsage(a.Usage))
	return append(dst, '}'), nil
}

// AppendUsage appends Anthropic's usage object: input_tokens counts
// what was neither read from nor written to a cache.
func AppendUsage(dst []byte, u chat.Usage) []byte {
	dst = append(dst, `{"input_tokens":`...)
	dst = strconv.AppendInt(dst, int64(u.Uncached()), 10)
	dst = append(dst, `,"cache_creation_input_tokens":`...)
	dst = strconv.AppendInt(dst, int64(u.CacheCreation), 10)
	dst = append(dst, `,"cache_read_input_tokens":`...)
	dst = strconv.AppendInt(dst, int64(u.Cached), 10)
	dst = append(dst, `,"output_tokens":`...)
	dst = strconv.AppendInt(dst, int64(u.Completion), 10)
	return append(dst, '}')
}
