package cache

import (
	"bytes"
	"encoding/json"
	"sort"
)

// A chat answer stored in one form may serve a request for the other:
// a stream entry is folded into one chat.completion, a chat.completion
// is unfolded into the chunks a stream of it would have sent. Only for
// chat completions: legacy-completion and Responses streams carry
// fields (logprobs per token, output item events) a conversion would
// lose, so there a request in the other form is a miss.

type chatToolCall struct {
	Index    *int   `json:"index,omitempty"`
	ID       string `json:"id,omitempty"`
	Type     string `json:"type,omitempty"`
	Function struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type chatMessage struct {
	Role             string          `json:"role,omitempty"`
	Content          *string         `json:"content"`
	Refusal          *string         `json:"refusal,omitempty"`
	ReasoningContent *string         `json:"reasoning_content,omitempty"`
	ToolCalls        []chatToolCall  `json:"tool_calls,omitempty"`
	Annotations      json.RawMessage `json:"annotations,omitempty"`
}

type chatChoice struct {
	Index        int             `json:"index"`
	Message      *chatMessage    `json:"message,omitempty"`
	Delta        *chatMessage    `json:"delta,omitempty"`
	Logprobs     json.RawMessage `json:"logprobs"`
	FinishReason *string         `json:"finish_reason"`
}

type chatAnswer struct {
	ID                string          `json:"id"`
	Object            string          `json:"object"`
	Created           int64           `json:"created"`
	Model             string          `json:"model"`
	Choices           []chatChoice    `json:"choices"`
	Usage             json.RawMessage `json:"usage,omitempty"`
	SystemFingerprint *string         `json:"system_fingerprint,omitempty"`
	ServiceTier       *string         `json:"service_tier,omitempty"`
}

var null = json.RawMessage("null")

// ChatToJSON folds a stored chat stream into a chat.completion entry.
// ok is false when an event is not a chat chunk.
func ChatToJSON(e *Entry) (*Entry, bool) {
	var out chatAnswer
	byIndex := map[int]*chatChoice{}
	for _, ev := range e.Events {
		data := eventData(ev)
		if len(data) == 0 || bytes.Equal(data, []byte("[DONE]")) {
			continue
		}
		var ch chatAnswer
		if json.Unmarshal(data, &ch) != nil || ch.Object != "chat.completion.chunk" {
			return nil, false
		}
		if out.ID == "" {
			out.ID, out.Created, out.Model = ch.ID, ch.Created, ch.Model
		}
		if ch.SystemFingerprint != nil {
			out.SystemFingerprint = ch.SystemFingerprint
		}
		if ch.ServiceTier != nil {
			out.ServiceTier = ch.ServiceTier
		}
		if len(ch.Usage) > 0 && !bytes.Equal(ch.Usage, null) {
			out.Usage = ch.Usage
		}
		for _, c := range ch.Choices {
			dst := byIndex[c.Index]
			if dst == nil {
				dst = &chatChoice{Index: c.Index, Message: &chatMessage{}, Logprobs: null}
				byIndex[c.Index] = dst
			}
			if c.FinishReason != nil {
				dst.FinishReason = c.FinishReason
			}
			if c.Delta != nil {
				foldDelta(dst.Message, c.Delta)
			}
		}
	}
	if out.ID == "" {
		return nil, false
	}
	out.Object = "chat.completion"
	for _, c := range byIndex {
		if c.Message.Role == "" {
			c.Message.Role = "assistant"
		}
		for i := range c.Message.ToolCalls {
			c.Message.ToolCalls[i].Index = nil
		}
		out.Choices = append(out.Choices, *c)
	}
	sort.Slice(out.Choices, func(i, j int) bool { return out.Choices[i].Index < out.Choices[j].Index })
	body, err := json.Marshal(&out)
	if err != nil {
		return nil, false
	}
	j := JSONEntry([]byte("application/json"), body)
	j.Tokens, j.Expires = e.Tokens, e.Expires
	return j, true
}

func foldDelta(m, d *chatMessage) {
	if d.Role != "" {
		m.Role = d.Role
	}
	m.Content = concat(m.Content, d.Content)
	m.Refusal = concat(m.Refusal, d.Refusal)
	m.ReasoningContent = concat(m.ReasoningContent, d.ReasoningContent)
	for _, tc := range d.ToolCalls {
		idx := len(m.ToolCalls)
		if tc.Index != nil {
			idx = *tc.Index
		}
		for len(m.ToolCalls) <= idx {
			n := len(m.ToolCalls)
			m.ToolCalls = append(m.ToolCalls, chatToolCall{Index: &n, Type: "function"})
		}
		t := &m.ToolCalls[idx]
		if tc.ID != "" {
			t.ID = tc.ID
		}
		if tc.Type != "" {
			t.Type = tc.Type
		}
		t.Function.Name += tc.Function.Name
		t.Function.Arguments += tc.Function.Arguments
	}
}

func concat(a, b *string) *string {
	if b == nil {
		return a
	}
	if a == nil {
		s := *b
		return &s
	}
	s := *a + *b
	return &s
}

// ChatToStream unfolds a stored chat.completion into the chunks of its
// stream: per choice the message as one delta, then its finish reason;
// then the usage chunk (always present: a replay to a client that did
// not ask for usage leaves it out), then [DONE].
func ChatToStream(e *Entry) (*Entry, bool) {
	var in chatAnswer
	if json.Unmarshal(e.Body, &in) != nil || in.Object != "chat.completion" {
		return nil, false
	}
	var events [][]byte
	add := func(ch *chatAnswer) bool {
		b, err := json.Marshal(ch)
		if err != nil {
			return false
		}
		ev := append(append([]byte("data: "), b...), '\n', '\n')
		events = append(events, ev)
		return true
	}
	chunk := func(choices []chatChoice) *chatAnswer {
		return &chatAnswer{ID: in.ID, Object: "chat.completion.chunk", Created: in.Created, Model: in.Model,
			Choices: choices, SystemFingerprint: in.SystemFingerprint, ServiceTier: in.ServiceTier}
	}
	for _, c := range in.Choices {
		if c.Message == nil {
			return nil, false
		}
		d := *c.Message
		for i := range d.ToolCalls {
			n := i
			d.ToolCalls[i].Index = &n
		}
		lp := c.Logprobs
		if len(lp) == 0 {
			lp = null
		}
		if !add(chunk([]chatChoice{{Index: c.Index, Delta: &d, Logprobs: lp}})) ||
			!add(chunk([]chatChoice{{Index: c.Index, Delta: &chatMessage{}, Logprobs: null, FinishReason: c.FinishReason}})) {
			return nil, false
		}
	}
	usage := -1
	if len(in.Usage) > 0 && !bytes.Equal(in.Usage, null) {
		u := chunk([]chatChoice{})
		u.Usage = in.Usage
		if !add(u) {
			return nil, false
		}
		usage = len(events) - 1
	}
	events = append(events, []byte("data: [DONE]\n\n"))
	s := StreamEntry(events)
	s.UsageEvent, s.Tokens, s.Expires = usage, e.Tokens, e.Expires
	return s, true
}
