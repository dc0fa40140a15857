package responses

import (
	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/upstream/translate/chat"
)

// ReadAnswer fills r from a chat.completion body.
func (r *Result) ReadAnswer(body []byte, m *Meta) error {
	a, err := chat.DecodeAnswer(body)
	if err != nil {
		return err
	}
	r.reset()
	if t := a.ReasoningText(); t != "" {
		it := r.add(itemReasoning, m)
		it.text = escaped(it.text, t)
	}
	if t := a.Text(); t != "" {
		it := r.add(itemMessage, m)
		it.text = escaped(it.text, t)
	}
	for _, c := range a.Calls() {
		it := r.add(itemCall, m)
		it.callID = escaped(it.callID, c.ID)
		it.name = escaped(it.name, c.Function.Name)
		it.text = escaped(it.text, c.Function.Arguments)
		it.custom = m.Custom[c.Function.Name]
	}
	r.usage = chat.ReadUsage(a.Usage)
	r.finish = append(r.fbuf[:0], a.Finish()...)
	return nil
}

// escaped appends s's JSON string content (escaped, no quotes).
func escaped(dst []byte, s string) []byte {
	n := len(dst)
	dst = jsonx.AppendString(dst, s)
	// Drop the quotes AppendString wrote.
	copy(dst[n:], dst[n+1:len(dst)-1])
	return dst[:len(dst)-2]
}
