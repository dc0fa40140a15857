package responses

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/bytedance/sonic"
	"github.com/llmedge/llmedge/upstream/translate/chat"
)

// Request is a Responses API create request. Fields without a chat
// meaning (include, metadata beyond echo, truncation, prompt_cache_key,
// service_tier, background) are not read.
type Request struct {
	Model              string          `json:"model"`
	Input              json.RawMessage `json:"input"`
	Instructions       string          `json:"instructions"`
	Tools              []Tool          `json:"tools"`
	ToolChoice         json.RawMessage `json:"tool_choice"`
	Reasoning          *Reasoning      `json:"reasoning"`
	MaxOutputTokens    *int            `json:"max_output_tokens"`
	Temperature        *float64        `json:"temperature"`
	TopP               *float64        `json:"top_p"`
	ParallelToolCalls  *bool           `json:"parallel_tool_calls"`
	Stream             bool            `json:"stream"`
	Store              *bool           `json:"store"`
	PreviousResponseID string          `json:"previous_response_id"`
	Text               *struct {
		Format json.RawMessage `json:"format"`
	} `json:"text"`
	User     string          `json:"user"`
	Metadata json.RawMessage `json:"metadata"`
}

// Tool is a Responses tool: function tools are flat ({type, name,
// parameters}); custom (freeform) tools take one string. Built-in
// tools (web_search, file_search, local_shell, ...) run on OpenAI's
// side and have no chat form: they are dropped.
type Tool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
	Strict      *bool           `json:"strict"`
}

// Reasoning is the reasoning configuration.
type Reasoning struct {
	Effort string `json:"effort"`
}

// Item is one input item: a message (with or without "type"), a
// function or custom tool call, its output, or a reasoning item.
type Item struct {
	Type      string          `json:"type"`
	Role      string          `json:"role"`
	Content   json.RawMessage `json:"content"`
	CallID    string          `json:"call_id"`
	Name      string          `json:"name"`
	Arguments string          `json:"arguments"`
	Input     string          `json:"input"`
	Output    json.RawMessage `json:"output"`
}

// Part is one content part of a message item.
type Part struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	ImageURL string `json:"image_url"`
	Detail   string `json:"detail"`
	FileData string `json:"file_data"`
	Filename string `json:"filename"`
	FileID   string `json:"file_id"`
}

// Error is a request the translator cannot read, naming the field.
type Error struct{ Param, Msg string }

func (e *Error) Error() string { return e.Param + ": " + e.Msg }

// Decode reads a Responses create body.
func Decode(body []byte) (*Request, error) {
	var r Request
	if err := sonic.Unmarshal(body, &r); err != nil {
		return nil, &Error{Param: "body", Msg: "not a Responses API request: " + err.Error()}
	}
	if len(r.Input) == 0 || string(r.Input) == "null" {
		return nil, &Error{Param: "input", Msg: "input is required"}
	}
	return &r, nil
}

// Custom tools (Codex's apply_patch) become functions of one string
// argument, and their calls are turned back into custom_tool_call.
const customArg = "input"

// CustomTools lists the names of r's custom tools.
func (r *Request) CustomTools() map[string]bool {
	var m map[string]bool
	for _, t := range r.Tools {
		if t.Type == "custom" {
			if m == nil {
				m = map[string]bool{}
			}
			m[t.Name] = true
		}
	}
	return m
}

// InputMessages maps r's input to chat messages (without the
// instructions, which do not carry over to a continuation).
func (r *Request) InputMessages() ([]chat.Message, error) {
	if r.Input[0] == '"' {
		var s string
		if err := sonic.Unmarshal(r.Input, &s); err != nil {
			return nil, &Error{Param: "input", Msg: "invalid string"}
		}
		return []chat.Message{{Role: "user", Content: s}}, nil
	}
	var items []Item
	if err := sonic.Unmarshal(r.Input, &items); err != nil {
		return nil, &Error{Param: "input", Msg: "input must be a string or an array of input items"}
	}
	var out []chat.Message
	for i := range items {
		it := &items[i]
		param := fmt.Sprintf("input[%d]", i)
		switch it.Type {
		case "", "message":
			m, err := messageItem(it, param)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		case "function_call", "custom_tool_call":
			args := it.Arguments
			if it.Type == "custom_tool_call" {
				b, _ := sonic.Marshal(map[string]string{customArg: it.Input})
				args = string(b)
			}
			call := chat.ToolCall{ID: it.CallID, Type: "function", Function: chat.Function{Name: it.Name, Arguments: args}}
			// Consecutive calls (and the text before them) are one
			// assistant turn in chat.
			if n := len(out); n > 0 && out[n-1].Role == "assistant" {
				out[n-1].ToolCalls = append(out[n-1].ToolCalls, call)
			} else {
				out = append(out, chat.Message{Role: "assistant", ToolCalls: []chat.ToolCall{call}})
			}
		case "function_call_output", "custom_tool_call_output":
			out = append(out, chat.Message{Role: "tool", ToolCallID: it.CallID, Content: outputText(it.Output)})
		case "reasoning", "item_reference":
			// Reasoning is the upstream model's own (encrypted for
			// OpenAI): no chat form. References name stored items of
			// OpenAI's, which llmedge does not have.
		default:
			return nil, &Error{Param: param + ".type", Msg: fmt.Sprintf("input item type %q has no chat form (message, function_call, function_call_output, custom_tool_call, custom_tool_call_output are translated)", it.Type)}
		}
	}
	return out, nil
}

func messageItem(it *Item, param string) (chat.Message, error) {
	role := it.Role
	switch role {
	case "user", "assistant", "system":
	case "developer":
		role = "system"
	default:
		return chat.Message{}, &Error{Param: param + ".role", Msg: fmt.Sprintf("role %q is not user, assistant, system or developer", it.Role)}
	}
	if len(it.Content) > 0 && it.Content[0] == '"' {
		var s string
		_ = sonic.Unmarshal(it.Content, &s)
		return chat.Message{Role: role, Content: s}, nil
	}
	var parts []Part
	if err := sonic.Unmarshal(it.Content, &parts); err != nil {
		return chat.Message{}, &Error{Param: param + ".content", Msg: "content must be a string or an array of content parts"}
	}
	if role != "user" {
		// Assistant and system turns carry text only in chat.
		var sb strings.Builder
		for _, p := range parts {
			sb.WriteString(p.Text)
		}
		return chat.Message{Role: role, Content: sb.String()}, nil
	}
	var cp []chat.Part
	for _, p := range parts {
		switch p.Type {
		case "input_text", "output_text", "text":
			cp = append(cp, chat.Part{Type: "text", Text: p.Text})
		case "input_image":
			cp = append(cp, chat.Part{Type: "image_url", ImageURL: &chat.ImageURL{URL: p.ImageURL, Detail: p.Detail}})
		case "input_file":
			cp = append(cp, chat.Part{Type: "file", File: &chat.File{FileData: p.FileData, Filename: p.Filename, FileID: p.FileID}})
		}
	}
	return chat.Message{Role: role, Content: cp}, nil
}

// outputText flattens a function_call_output's output (a string or
// input_text parts).
func outputText(raw json.RawMessage) string {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		_ = sonic.Unmarshal(raw, &s)
		return s
	}
	var parts []Part
	_ = sonic.Unmarshal(raw, &parts)
	var sb strings.Builder
	for _, p := range parts {
		sb.WriteString(p.Text)
	}
	return sb.String()
}

// ToChat builds the chat request: instructions as the system message,
// then the stored turns of previous_response_id (history, a JSON array
// of chat messages, may be nil), then input.
func (r *Request) ToChat(t chat.Target, upstreamModel string, history []byte) (req *chat.Request, input []chat.Message, err error) {
	input, err = r.InputMessages()
	if err != nil {
		return nil, nil, err
	}
	out := &chat.Request{Model: upstreamModel, Stream: r.Stream, Temperature: r.Temperature, TopP: r.TopP,
		ParallelToolCalls: r.ParallelToolCalls, User: r.User}
	out.SetMaxTokens(t, r.MaxOutputTokens)
	if r.Stream {
		out.StreamOptions = &chat.StreamOptions{IncludeUsage: true}
	}
	if r.Instructions != "" {
		out.Messages = append(out.Messages, chat.Message{Role: "system", Content: r.Instructions})
	}
	if len(history) > 0 {
		var prev []chat.Message
		if err := sonic.Unmarshal(history, &prev); err != nil {
			return nil, nil, &Error{Param: "previous_response_id", Msg: "the stored conversation is unreadable"}
		}
		out.Messages = append(out.Messages, prev...)
	}
	out.Messages = append(out.Messages, input...)
	for _, tl := range r.Tools {
		switch tl.Type {
		case "function":
			params := tl.Parameters
			if len(params) == 0 || string(params) == "null" {
				params = json.RawMessage(`{"type":"object","properties":{}}`)
			}
			out.Tools = append(out.Tools, chat.Tool{Type: "function", Function: chat.ToolDef{Name: tl.Name, Description: tl.Description, Parameters: params, Strict: tl.Strict}})
		case "custom":
			out.Tools = append(out.Tools, chat.Tool{Type: "function", Function: chat.ToolDef{Name: tl.Name, Description: tl.Description,
				Parameters: json.RawMessage(`{"type":"object","properties":{"` + customArg + `":{"type":"string","description":"the tool's input, verbatim"}},"required":["` + customArg + `"]}`)}})
		}
	}
	if len(out.Tools) > 0 {
		tc, err := toolChoice(r.ToolChoice)
		if err != nil {
			return nil, nil, err
		}
		out.ToolChoice = tc
	} else {
		out.ParallelToolCalls = nil
	}
	if r.Reasoning != nil && r.Reasoning.Effort != "" && r.Reasoning.Effort != "none" && t.Reasoning {
		out.ReasoningEffort = r.Reasoning.Effort
		if out.ReasoningEffort == "minimal" {
			out.ReasoningEffort = "low"
		}
	}
	if r.Text != nil && len(r.Text.Format) > 0 {
		out.ResponseFormat = responseFormat(r.Text.Format)
	}
	return out, input, nil
}

func toolChoice(raw json.RawMessage) (any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		_ = sonic.Unmarshal(raw, &s)
		switch s {
		case "auto", "none", "required":
			return s, nil
		}
		return nil, &Error{Param: "tool_choice", Msg: fmt.Sprintf("tool_choice %q is not auto, none or required", s)}
	}
	var o struct{ Type, Name string }
	if sonic.Unmarshal(raw, &o) != nil || (o.Type != "function" && o.Type != "custom") || o.Name == "" {
		return nil, &Error{Param: "tool_choice", Msg: "tool_choice must be auto, none, required or {\"type\":\"function\",\"name\":...}"}
	}
	return chat.NamedToolChoice(o.Name), nil
}

// responseFormat maps text.format ({type:json_schema,name,schema,strict}
// flat) to chat's response_format (schema nested); text passes as none.
func responseFormat(f json.RawMessage) json.RawMessage {
	var o struct {
		Type   string          `json:"type"`
		Name   string          `json:"name"`
		Schema json.RawMessage `json:"schema"`
		Strict *bool           `json:"strict"`
	}
	if sonic.Unmarshal(f, &o) != nil {
		return nil
	}
	switch o.Type {
	case "json_schema":
		b, _ := sonic.Marshal(map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": o.Name, "schema": o.Schema, "strict": o.Strict}})
		return b
	case "json_object":
		return json.RawMessage(`{"type":"json_object"}`)
	}
	return nil
}
