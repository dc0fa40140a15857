package messages

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/bytedance/sonic"
	"github.com/llmedge/llmedge/upstream/translate/chat"
)

// Request is an Anthropic Messages request as Claude Code sends it.
// Fields that have no chat meaning (metadata, context_management,
// service_tier, container, mcp_servers, cache_control at the top) are
// not read: they are dropped, never refused.
type Request struct {
	Model         string          `json:"model"`
	Messages      []Message       `json:"messages"`
	System        json.RawMessage `json:"system"`
	MaxTokens     *int            `json:"max_tokens"`
	Temperature   *float64        `json:"temperature"`
	TopP          *float64        `json:"top_p"`
	TopK          *int            `json:"top_k"`
	StopSequences []string        `json:"stop_sequences"`
	Stream        bool            `json:"stream"`
	Tools         []Tool          `json:"tools"`
	ToolChoice    *ToolChoice     `json:"tool_choice"`
	Thinking      *Thinking       `json:"thinking"`
}

// Message is one Anthropic message: content is a string or blocks.
type Message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// Block is one content block.
type Block struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	Source    *Source         `json:"source"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
	IsError   bool            `json:"is_error"`
	Thinking  string          `json:"thinking"`
	Signature string          `json:"signature"`
	Data      string          `json:"data"`
	Title     string          `json:"title"`
	// CacheControl is kept for targets that read it (Target.Anthropic).
	CacheControl json.RawMessage `json:"cache_control"`
}

// Source is an image's or a document's source.
type Source struct {
	Type      string `json:"type"` // base64, url, text
	MediaType string `json:"media_type"`
	Data      string `json:"data"`
	URL       string `json:"url"`
}

// Tool is a tool offered to the model. Custom tools (no type, or
// "custom") become function tools; Anthropic's server tools
// (web_search_…, bash_…, text_editor_…, computer_…) have no chat form
// and are dropped.
type Tool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"input_schema"`
}

// ToolChoice is auto, any, tool (with name) or none.
type ToolChoice struct {
	Type                   string `json:"type"`
	Name                   string `json:"name"`
	DisableParallelToolUse bool   `json:"disable_parallel_tool_use"`
}

// Thinking is extended thinking: enabled with a budget, adaptive or
// disabled.
type Thinking struct {
	Type         string `json:"type"`
	BudgetTokens int    `json:"budget_tokens"`
}

// Error is a request the translator cannot read, naming the field.
type Error struct {
	Param, Msg string
}

func (e *Error) Error() string { return e.Param + ": " + e.Msg }

// Decode reads an Anthropic Messages body.
func Decode(body []byte) (*Request, error) {
	var r Request
	if err := sonic.Unmarshal(body, &r); err != nil {
		return nil, &Error{Param: "body", Msg: "not an Anthropic Messages request: " + err.Error()}
	}
	if len(r.Messages) == 0 {
		return nil, &Error{Param: "messages", Msg: "messages: at least one message is required"}
	}
	return &r, nil
}

// ToChat builds the chat request for target t. upstreamModel is what
// goes in "model" (the deployment replaces it anyway).
func (r *Request) ToChat(t chat.Target, upstreamModel string) (*chat.Request, error) {
	out := &chat.Request{Model: upstreamModel, Stream: r.Stream,
		Temperature: r.Temperature, TopP: r.TopP, Stop: r.StopSequences}
	out.SetMaxTokens(t, r.MaxTokens)
	if r.Stream {
		out.StreamOptions = &chat.StreamOptions{IncludeUsage: true}
	}
	if t.Anthropic {
		out.TopK = r.TopK
	}
	if sys, err := systemText(r.System); err != nil {
		return nil, err
	} else if sys != "" {
		out.Messages = append(out.Messages, chat.Message{Role: "system", Content: sys})
	}
	for i := range r.Messages {
		msgs, err := messageToChat(&r.Messages[i], i, t)
		if err != nil {
			return nil, err
		}
		out.Messages = append(out.Messages, msgs...)
	}
	for _, tl := range r.Tools {
		if tl.Type != "" && tl.Type != "custom" {
			continue
		}
		params := tl.InputSchema
		if len(params) == 0 {
			params = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		out.Tools = append(out.Tools, chat.Tool{Type: "function",
			Function: chat.ToolDef{Name: tl.Name, Description: tl.Description, Parameters: params}})
	}
	if tc := r.ToolChoice; tc != nil && len(out.Tools) > 0 {
		switch tc.Type {
		case "auto":
			out.ToolChoice = "auto"
		case "any":
			out.ToolChoice = "required"
		case "none":
			out.ToolChoice = "none"
		case "tool":
			out.ToolChoice = chat.NamedToolChoice(tc.Name)
		default:
			return nil, &Error{Param: "tool_choice.type", Msg: fmt.Sprintf("tool_choice.type %q is not one of auto, any, tool, none", tc.Type)}
		}
		if tc.DisableParallelToolUse {
			f := false
			out.ParallelToolCalls = &f
		}
	}
	r.thinkingToChat(t, out)
	return out, nil
}

// thinkingToChat carries extended thinking over: as Anthropic's own
// object to a target that reads it, as reasoning_effort to a reasoning
// model, else dropped (a chat model without reasoning refuses it).
func (r *Request) thinkingToChat(t chat.Target, out *chat.Request) {
	th := r.Thinking
	if th == nil || th.Type == "disabled" || th.Type == "" {
		return
	}
	if t.Anthropic {
		out.Thinking, _ = sonic.Marshal(th)
		return
	}
	if !t.Reasoning {
		return
	}
	switch {
	case th.Type == "adaptive":
		out.ReasoningEffort = "medium"
	case th.BudgetTokens <= 2048:
		out.ReasoningEffort = "low"
	case th.BudgetTokens <= 8192:
		out.ReasoningEffort = "medium"
	default:
		out.ReasoningEffort = "high"
	}
}

// systemText joins a system prompt given as a string or text blocks.
func systemText(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		err := sonic.Unmarshal(raw, &s)
		return s, err
	}
	var blocks []Block
	if err := sonic.Unmarshal(raw, &blocks); err != nil {
		return "", &Error{Param: "system", Msg: "system must be a string or an array of text blocks"}
	}
	var sb strings.Builder
	for _, b := range blocks {
		if b.Type != "text" {
			continue
		}
		if sb.Len() > 0 {
			sb.WriteString("\n")
		}
		sb.WriteString(b.Text)
	}
	return sb.String(), nil
}

// blocksOf reads a message's content: a string is one text block.
func blocksOf(raw json.RawMessage, param string) ([]Block, error) {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := sonic.Unmarshal(raw, &s); err != nil {
			return nil, &Error{Param: param, Msg: "invalid string"}
		}
		return []Block{{Type: "text", Text: s}}, nil
	}
	var blocks []Block
	if err := sonic.Unmarshal(raw, &blocks); err != nil {
		return nil, &Error{Param: param, Msg: "content must be a string or an array of content blocks"}
	}
	return blocks, nil
}

// messageToChat maps one Anthropic message to chat messages: a user
// message's tool_result blocks become role "tool" messages (ids kept),
// before the rest of its content; an assistant's tool_use blocks become
// tool_calls.
func messageToChat(m *Message, i int, t chat.Target) ([]chat.Message, error) {
	param := fmt.Sprintf("messages[%d].content", i)
	blocks, err := blocksOf(m.Content, param)
	if err != nil {
		return nil, err
	}
	switch m.Role {
	case "user":
		return userToChat(blocks, param, t)
	case "assistant":
		return []chat.Message{assistantToChat(blocks, t)}, nil
	}
	return nil, &Error{Param: fmt.Sprintf("messages[%d].role", i), Msg: fmt.Sprintf("role %q is not user or assistant", m.Role)}
}

func userToChat(blocks []Block, param string, t chat.Target) ([]chat.Message, error) {
	var out []chat.Message
	var parts []chat.Part
	for j := range blocks {
		b := &blocks[j]
		switch b.Type {
		case "tool_result":
			text, err := toolResultText(b, fmt.Sprintf("%s[%d].content", param, j))
			if err != nil {
				return nil, err
			}
			out = append(out, chat.Message{Role: "tool", ToolCallID: b.ToolUseID, Content: text})
		case "text":
			p := chat.Part{Type: "text", Text: b.Text}
			if t.Anthropic {
				p.CacheControl = b.CacheControl
			}
			parts = append(parts, p)
		case "image":
			p, err := imagePart(b.Source, fmt.Sprintf("%s[%d].source", param, j))
			if err != nil {
				return nil, err
			}
			parts = append(parts, p)
		case "document":
			parts = append(parts, documentPart(b))
		}
		// thinking, redacted_thinking, search_result and server tool
		// results in a user turn have no chat form: dropped.
	}
	if len(parts) > 0 {
		var content any = parts
		if len(parts) == 1 && parts[0].Type == "text" && parts[0].CacheControl == nil {
			content = parts[0].Text
		}
		out = append(out, chat.Message{Role: "user", Content: content})
	}
	return out, nil
}

func assistantToChat(blocks []Block, t chat.Target) chat.Message {
	msg := chat.Message{Role: "assistant"}
	var text strings.Builder
	var thinking []json.RawMessage
	for j := range blocks {
		b := &blocks[j]
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "tool_use":
			args := string(b.Input)
			if args == "" || args == "null" {
				args = "{}"
			}
			msg.ToolCalls = append(msg.ToolCalls, chat.ToolCall{ID: b.ID, Type: "function",
				Function: chat.Function{Name: b.Name, Arguments: args}})
		case "thinking", "redacted_thinking":
			if t.Anthropic {
				raw, _ := sonic.Marshal(map[string]string{"type": b.Type, "thinking": b.Thinking, "signature": b.Signature, "data": b.Data})
				thinking = append(thinking, raw)
			}
		}
	}
	if text.Len() > 0 || len(msg.ToolCalls) == 0 {
		msg.Content = text.String()
	}
	if len(thinking) > 0 {
		msg.ThinkingBlocks, _ = sonic.Marshal(thinking)
	}
	return msg
}

// toolResultText flattens a tool_result's content (a string or text
// blocks) into the tool message's text; an error result is marked.
func toolResultText(b *Block, param string) (string, error) {
	var text string
	if len(b.Content) > 0 && string(b.Content) != "null" {
		blocks, err := blocksOf(b.Content, param)
		if err != nil {
			return "", err
		}
		var sb strings.Builder
		for _, c := range blocks {
			switch c.Type {
			case "text":
				if sb.Len() > 0 {
					sb.WriteString("\n")
				}
				sb.WriteString(c.Text)
			case "image":
				// A tool message carries text only in chat.
				sb.WriteString("[image omitted]")
			}
		}
		text = sb.String()
	}
	if b.IsError {
		text = "Error: " + text
	}
	return text, nil
}

func imagePart(s *Source, param string) (chat.Part, error) {
	if s == nil {
		return chat.Part{}, &Error{Param: param, Msg: "image block without source"}
	}
	switch s.Type {
	case "base64":
		return chat.Part{Type: "image_url", ImageURL: &chat.ImageURL{URL: "data:" + s.MediaType + ";base64," + s.Data}}, nil
	case "url":
		return chat.Part{Type: "image_url", ImageURL: &chat.ImageURL{URL: s.URL}}, nil
	}
	return chat.Part{}, &Error{Param: param + ".type", Msg: fmt.Sprintf("image source type %q is not base64 or url", s.Type)}
}

// documentPart maps a document block: a PDF as a file part, plain text
// as text.
func documentPart(b *Block) chat.Part {
	s := b.Source
	switch {
	case s == nil:
		return chat.Part{Type: "text", Text: b.Title}
	case s.Type == "base64":
		return chat.Part{Type: "file", File: &chat.File{FileData: "data:" + s.MediaType + ";base64," + s.Data, Filename: b.Title}}
	case s.Type == "text":
		return chat.Part{Type: "text", Text: s.Data}
	}
	return chat.Part{Type: "text", Text: s.URL}
}
