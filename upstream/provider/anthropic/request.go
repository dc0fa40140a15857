package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/bytedance/sonic"
	"github.com/llmedge/llmedge/upstream/provider"
)

// This file translates an OpenAI chat completion request into an
// Anthropic Messages API request. Unlike the pass-through path the body
// is fully decoded: every field has to be rewritten anyway.

// anRequest is the Anthropic Messages request built from provider.OpenAIRequest.
type anRequest struct {
	Model         string          `json:"model"`
	System        []anBlock       `json:"system,omitempty"`
	Messages      []anMessage     `json:"messages"`
	MaxTokens     int             `json:"max_tokens"`
	Temperature   *float64        `json:"temperature,omitempty"`
	TopP          *float64        `json:"top_p,omitempty"`
	TopK          *int            `json:"top_k,omitempty"`
	StopSequences []string        `json:"stop_sequences,omitempty"`
	Metadata      json.RawMessage `json:"metadata,omitempty"`
	Tools         []anTool        `json:"tools,omitempty"`
	ToolChoice    json.RawMessage `json:"tool_choice,omitempty"`
	Thinking      json.RawMessage `json:"thinking,omitempty"`
	OutputConfig  json.RawMessage `json:"output_config,omitempty"`
	Stream        bool            `json:"stream,omitempty"`
}

type anMessage struct {
	Role    string    `json:"role"`
	Content []anBlock `json:"content"`
}

// anBlock is any content block; only the fields of its type are set.
type anBlock struct {
	Type         string          `json:"type"`
	Text         *string         `json:"text,omitempty"`
	Source       *anSource       `json:"source,omitempty"`
	ID           string          `json:"id,omitempty"`
	Name         string          `json:"name,omitempty"`
	Input        json.RawMessage `json:"input,omitempty"`
	ToolUseID    string          `json:"tool_use_id,omitempty"`
	Content      json.RawMessage `json:"content,omitempty"`
	Raw          json.RawMessage `json:"-"`
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

// MarshalJSON writes Raw verbatim for blocks passed through (thinking).
func (b anBlock) MarshalJSON() ([]byte, error) {
	if b.Raw != nil {
		return b.Raw, nil
	}
	type plain anBlock
	return sonic.Marshal(plain(b))
}

type anSource struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

type anTool struct {
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"input_schema"`
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

// handledParams are the OpenAI fields translated (or harmless to drop:
// stream_options only shapes llmedge's own output).
var handledParams = map[string]bool{
	"model": true, "messages": true, "max_tokens": true, "max_completion_tokens": true,
	"temperature": true, "top_p": true, "top_k": true, "stop": true, "user": true,
	"tools": true, "tool_choice": true, "parallel_tool_calls": true, "thinking": true,
	"reasoning_effort": true, "metadata": true, "stream": true, "stream_options": true,
	"n": true, "response_format": true,
}

func badParam(param, format string, args ...any) *provider.Error {
	return &provider.Error{Status: 400, Type: "invalid_request_error", Param: param, Code: "invalid_value", Message: fmt.Sprintf(format, args...)}
}

// TranslateRequest builds the Anthropic body for an OpenAI chat body.
// model is the upstream model id.
func TranslateRequest(d *provider.Endpoint, body []byte, model string, stream bool) ([]byte, *provider.Error) {
	var in provider.OpenAIRequest
	unsupported, notJSON, err := in.Decode(body, handledParams)
	if notJSON {
		return nil, badParam("", "request body is not valid JSON: %v", err)
	}
	if err != nil {
		return nil, badParam("", "invalid request: %v", err)
	}
	if in.N != nil && *in.N != 1 {
		unsupported = append(unsupported, "n")
	}
	outputConfig, e := translateResponseFormat(in.ResponseFormat)
	if e != nil {
		return nil, e
	}
	if outputConfig == nil && len(in.ResponseFormat) > 0 && !provider.IsNull(in.ResponseFormat) && !isTextFormat(in.ResponseFormat) {
		unsupported = append(unsupported, "response_format")
	}
	if len(unsupported) > 0 && !d.Options.DropParams {
		sort.Strings(unsupported)
		return nil, &provider.Error{Status: 400, Type: "invalid_request_error", Param: unsupported[0], Code: "unsupported_parameter",
			Message: fmt.Sprintf("anthropic does not support parameters: %s. Set litellm_settings.drop_params: true (or litellm_params.drop_params) to drop them", strings.Join(unsupported, ", "))}
	}

	out := anRequest{Model: model, Temperature: in.Temperature, TopP: in.TopP, TopK: in.TopK, Stream: stream, OutputConfig: outputConfig}
	out.MaxTokens = provider.DefaultAnthropicMaxTokens
	if d.Options.MaxTokens > 0 {
		out.MaxTokens = d.Options.MaxTokens
	}
	explicitMax := false
	if in.MaxCompletionTokens != nil {
		out.MaxTokens, explicitMax = *in.MaxCompletionTokens, true
	} else if in.MaxTokens != nil {
		out.MaxTokens, explicitMax = *in.MaxTokens, true
	}
	var ok bool
	if out.StopSequences, ok = in.StopSequences(); !ok {
		return nil, badParam("stop", "stop must be a string or an array of strings")
	}
	if len(in.Metadata) > 0 && !provider.IsNull(in.Metadata) {
		out.Metadata = in.Metadata
	}
	if in.User != nil && *in.User != "" {
		m, _ := sonic.Marshal(map[string]string{"user_id": *in.User})
		out.Metadata = m
	}

	// thinking: the request's own, else reasoning_effort, else the
	// deployment's litellm_params.thinking.
	switch {
	case len(in.Thinking) > 0 && !provider.IsNull(in.Thinking):
		out.Thinking = in.Thinking
	case in.ReasoningEffort != nil:
		t, ok := in.EffortThinking()
		if !ok {
			return nil, badParam("reasoning_effort", provider.ReasoningEffortValues)
		}
		out.Thinking = t
	case d.Options.Thinking != nil:
		out.Thinking = d.Options.Thinking
	}
	if out.Thinking != nil && lostThinking(in.Messages) {
		// With thinking on, Anthropic requires the last assistant turn
		// of a tool loop to begin with its signed thinking block. OpenAI
		// clients drop it (only thinking_blocks-aware clients send it
		// back), so thinking is left off for this turn rather than
		// failing it (LiteLLM's modify_params does the same).
		out.Thinking = nil
	}
	if out.Thinking != nil {
		// A budget below Anthropic's minimum is raised to it, and
		// max_tokens must exceed the budget.
		out.Thinking, out.MaxTokens = provider.FitThinking(out.Thinking, out.MaxTokens, explicitMax)
	}

	if err := translateTools(&in, &out); err != nil {
		return nil, err
	}
	if err := translateMessages(in.Messages, &out); err != nil {
		return nil, err
	}
	b, err := sonic.Marshal(&out)
	if err != nil {
		return nil, &provider.Error{Status: 500, Type: "api_error", Message: "cannot encode the anthropic request: " + err.Error()}
	}
	return b, nil
}

// translateResponseFormat maps OpenAI's structured outputs
// (response_format {"type":"json_schema","json_schema":{"schema":...}})
// to Anthropic's (output_config {"format":{"type":"json_schema",
// "schema":...}}): Claude then answers with JSON text matching the
// schema, so the answer needs no translation back. nil for any other
// response_format ("text" needs nothing; "json_object" has no
// Anthropic equivalent and is refused as an unsupported parameter). A
// model without structured outputs gets Anthropic's own 400.
func translateResponseFormat(rf json.RawMessage) (json.RawMessage, *provider.Error) {
	if len(rf) == 0 || provider.IsNull(rf) {
		return nil, nil
	}
	var f struct {
		Type       string `json:"type"`
		JSONSchema *struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	}
	if sonic.Unmarshal(rf, &f) != nil {
		return nil, badParam("response_format", "response_format must be an object with a type")
	}
	if f.Type != "json_schema" {
		return nil, nil
	}
	if f.JSONSchema == nil || len(bytes.TrimSpace(f.JSONSchema.Schema)) == 0 || bytes.TrimSpace(f.JSONSchema.Schema)[0] != '{' {
		return nil, badParam("response_format.json_schema.schema", "response_format.json_schema.schema must be a JSON Schema object")
	}
	b, err := sonic.Marshal(map[string]any{"format": map[string]any{"type": "json_schema", "schema": f.JSONSchema.Schema}})
	if err != nil {
		return nil, badParam("response_format.json_schema.schema", "response_format.json_schema.schema: %v", err)
	}
	return b, nil
}

func isTextFormat(rf json.RawMessage) bool {
	var t struct {
		Type string `json:"type"`
	}
	return sonic.Unmarshal(rf, &t) == nil && t.Type == "text"
}

// lostThinking reports whether the last assistant message called tools
// without carrying its thinking blocks.
func lostThinking(msgs []provider.OpenAIMessage) bool {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "assistant" {
			return len(msgs[i].ToolCalls) > 0 && (len(msgs[i].ThinkingBlocks) == 0 || provider.IsNull(msgs[i].ThinkingBlocks))
		}
	}
	return false
}

func translateTools(in *provider.OpenAIRequest, out *anRequest) *provider.Error {
	for i, t := range in.Tools {
		if t.Type != "function" || t.Function == nil {
			return badParam(fmt.Sprintf("tools[%d].type", i), "tools[%d]: only type \"function\" tools can be translated to anthropic", i)
		}
		if t.Function.Name == "" {
			return badParam(fmt.Sprintf("tools[%d].function.name", i), "tools[%d].function.name is required", i)
		}
		schema := t.Function.Parameters
		if len(schema) == 0 || provider.IsNull(schema) {
			schema = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		out.Tools = append(out.Tools, anTool{Name: t.Function.Name, Description: t.Function.Description, InputSchema: schema, CacheControl: t.CacheControl})
	}
	tc := in.ToolChoice
	var choice map[string]any
	if len(tc) > 0 && !provider.IsNull(tc) {
		if tc[0] == '"' {
			var s string
			_ = sonic.Unmarshal(tc, &s)
			switch s {
			case "auto":
				choice = map[string]any{"type": "auto"}
			case "required":
				choice = map[string]any{"type": "any"}
			case "none":
				choice = map[string]any{"type": "none"}
			default:
				return badParam("tool_choice", "tool_choice must be auto, required, none or a function")
			}
		} else {
			var f struct {
				Type     string `json:"type"`
				Function struct {
					Name string `json:"name"`
				} `json:"function"`
			}
			if sonic.Unmarshal(tc, &f) != nil || f.Function.Name == "" {
				return badParam("tool_choice", "tool_choice object must be {\"type\":\"function\",\"function\":{\"name\":...}}")
			}
			choice = map[string]any{"type": "tool", "name": f.Function.Name}
		}
	}
	if in.ParallelToolCalls != nil && !*in.ParallelToolCalls && len(out.Tools) > 0 {
		if choice == nil {
			choice = map[string]any{"type": "auto"}
		}
		if choice["type"] != "none" {
			choice["disable_parallel_tool_use"] = true
		}
	}
	if choice != nil {
		out.ToolChoice, _ = sonic.Marshal(choice)
	}
	return nil
}

func translateMessages(msgs []provider.OpenAIMessage, out *anRequest) *provider.Error {
	if len(msgs) == 0 {
		return badParam("messages", "messages must be a non-empty array")
	}
	for i, m := range msgs {
		p := fmt.Sprintf("messages[%d]", i)
		switch m.Role {
		case "system", "developer":
			blocks, err := contentBlocks(m.Content, p, false)
			if err != nil {
				return err
			}
			out.System = append(out.System, blocks...)
			continue
		case "user":
			blocks, err := contentBlocks(m.Content, p, true)
			if err != nil {
				return err
			}
			if len(m.CacheControl) > 0 && len(blocks) > 0 {
				blocks[len(blocks)-1].CacheControl = m.CacheControl
			}
			appendTurn(out, "user", blocks)
		case "assistant":
			var blocks []anBlock
			if len(m.ThinkingBlocks) > 0 && !provider.IsNull(m.ThinkingBlocks) {
				var raws []json.RawMessage
				if sonic.Unmarshal(m.ThinkingBlocks, &raws) != nil {
					return badParam(p+".thinking_blocks", "%s.thinking_blocks must be an array of thinking blocks", p)
				}
				for _, r := range raws {
					blocks = append(blocks, anBlock{Raw: r})
				}
			}
			text, err := contentBlocks(m.Content, p, false)
			if err != nil {
				return err
			}
			blocks = append(blocks, text...)
			for j, tc := range m.ToolCalls {
				input := json.RawMessage(strings.TrimSpace(tc.Function.Arguments))
				if len(input) == 0 {
					input = json.RawMessage("{}")
				} else if !json.Valid(input) || input[0] != '{' {
					return badParam(fmt.Sprintf("%s.tool_calls[%d].function.arguments", p, j), "%s.tool_calls[%d].function.arguments must be a JSON object", p, j)
				}
				blocks = append(blocks, anBlock{Type: "tool_use", ID: tc.ID, Name: tc.Function.Name, Input: input})
			}
			if len(m.CacheControl) > 0 && len(blocks) > 0 {
				blocks[len(blocks)-1].CacheControl = m.CacheControl
			}
			appendTurn(out, "assistant", blocks)
		case "tool":
			if m.ToolCallID == "" {
				return badParam(p+".tool_call_id", "%s.tool_call_id is required", p)
			}
			res := anBlock{Type: "tool_result", ToolUseID: m.ToolCallID, CacheControl: m.CacheControl}
			blocks, err := contentBlocks(m.Content, p, true)
			if err != nil {
				return err
			}
			if len(blocks) > 0 {
				res.Content, _ = sonic.Marshal(blocks)
			}
			appendTurn(out, "user", []anBlock{res})
		default:
			return badParam(p+".role", "%s.role %q cannot be translated to anthropic (use system, developer, user, assistant or tool)", p, m.Role)
		}
	}
	return nil
}

// appendTurn adds blocks as a turn of role, merged into the previous
// turn when it has the same role (Anthropic wants alternating turns).
func appendTurn(out *anRequest, role string, blocks []anBlock) {
	if len(blocks) == 0 {
		return
	}
	if n := len(out.Messages); n > 0 && out.Messages[n-1].Role == role {
		out.Messages[n-1].Content = append(out.Messages[n-1].Content, blocks...)
		return
	}
	out.Messages = append(out.Messages, anMessage{Role: role, Content: blocks})
}

// contentBlocks translates an OpenAI content value (string, array of
// parts, or null) to Anthropic blocks. Empty text is skipped: Anthropic
// rejects empty text blocks.
func contentBlocks(c json.RawMessage, p string, images bool) ([]anBlock, *provider.Error) {
	if len(c) == 0 || provider.IsNull(c) {
		return nil, nil
	}
	if c[0] == '"' {
		var s string
		if sonic.Unmarshal(c, &s) != nil {
			return nil, badParam(p+".content", "%s.content is not a valid string", p)
		}
		if s == "" {
			return nil, nil
		}
		return []anBlock{{Type: "text", Text: &s}}, nil
	}
	var parts []provider.OpenAIPart
	if sonic.Unmarshal(c, &parts) != nil {
		return nil, badParam(p+".content", "%s.content must be a string or an array of content parts", p)
	}
	var out []anBlock
	for j, part := range parts {
		pp := fmt.Sprintf("%s.content[%d]", p, j)
		switch part.Type {
		case "text":
			if part.Text == "" {
				continue
			}
			t := part.Text
			out = append(out, anBlock{Type: "text", Text: &t, CacheControl: part.CacheControl})
		case "image_url":
			if !images {
				return nil, badParam(pp+".type", "%s: images are only allowed in user and tool messages", pp)
			}
			if part.ImageURL == nil || part.ImageURL.URL == "" {
				return nil, badParam(pp+".image_url.url", "%s.image_url.url is required", pp)
			}
			src, err := imageSource(part.ImageURL.URL, pp)
			if err != nil {
				return nil, err
			}
			out = append(out, anBlock{Type: "image", Source: src, CacheControl: part.CacheControl})
		default:
			return nil, badParam(pp+".type", "%s: content part type %q cannot be translated to anthropic (text and image_url can)", pp, part.Type)
		}
	}
	return out, nil
}

// imageSource turns an image_url into an Anthropic image source: data:
// URLs become base64 sources, http(s) URLs url sources.
func imageSource(u, p string) (*anSource, *provider.Error) {
	if strings.HasPrefix(u, "data:") {
		mt, data, ok := provider.ParseDataURL(u)
		if !ok {
			return nil, badParam(p+".image_url.url", "%s.image_url.url: data URLs must look like data:image/png;base64,...", p)
		}
		return &anSource{Type: "base64", MediaType: mt, Data: data}, nil
	}
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return &anSource{Type: "url", URL: u}, nil
	}
	return nil, badParam(p+".image_url.url", "%s.image_url.url must be a data: URL or an http(s) URL", p)
}
