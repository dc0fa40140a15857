package bedrock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/bytedance/sonic"
	"github.com/llmedge/llmedge/upstream/provider"
)

// converseParams are the OpenAI fields the Converse translation uses
// (or that are harmless to drop: user, parallel_tool_calls, stream
// flags). Others get a 400 naming them unless drop_params is set, as
// LiteLLM does.
var converseParams = map[string]bool{
	"model": true, "messages": true, "max_tokens": true, "max_completion_tokens": true,
	"temperature": true, "top_p": true, "stop": true, "n": true, "tools": true, "tool_choice": true,
	"parallel_tool_calls": true, "user": true, "stream": true, "stream_options": true,
	"thinking": true, "reasoning_effort": true,
}

// Converse request (Amazon Bedrock API reference, Converse).
type cvRequest struct {
	Messages        []cvMessage    `json:"messages"`
	System          []cvBlock      `json:"system,omitempty"`
	InferenceConfig *cvInference   `json:"inferenceConfig,omitempty"`
	ToolConfig      *cvToolConfig  `json:"toolConfig,omitempty"`
	Additional      map[string]any `json:"additionalModelRequestFields,omitempty"`
}

type cvMessage struct {
	Role    string    `json:"role"`
	Content []cvBlock `json:"content"`
}

type cvBlock struct {
	Text       *string       `json:"text,omitempty"`
	Image      *cvImage      `json:"image,omitempty"`
	ToolUse    *cvToolUse    `json:"toolUse,omitempty"`
	ToolResult *cvToolResult `json:"toolResult,omitempty"`
}

type cvImage struct {
	Format string `json:"format"`
	Source struct {
		Bytes string `json:"bytes"`
	} `json:"source"`
}

type cvToolUse struct {
	ToolUseID string          `json:"toolUseId"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
}

type cvToolResult struct {
	ToolUseID string    `json:"toolUseId"`
	Content   []cvBlock `json:"content"`
}

type cvInference struct {
	MaxTokens     *int     `json:"maxTokens,omitempty"`
	Temperature   *float64 `json:"temperature,omitempty"`
	TopP          *float64 `json:"topP,omitempty"`
	StopSequences []string `json:"stopSequences,omitempty"`
}

type cvToolConfig struct {
	Tools      []cvTool       `json:"tools"`
	ToolChoice map[string]any `json:"toolChoice,omitempty"`
}

type cvTool struct {
	ToolSpec struct {
		Name        string `json:"name"`
		Description string `json:"description,omitempty"`
		InputSchema struct {
			JSON json.RawMessage `json:"json"`
		} `json:"inputSchema"`
	} `json:"toolSpec"`
}

// converseBadRequest is a 400 naming the offending field.
func converseBadRequest(param, format string, args ...any) *provider.Error {
	return &provider.Error{Status: 400, Type: "invalid_request_error", Param: param, Message: fmt.Sprintf(format, args...)}
}

var emptyObject = json.RawMessage(`{}`)

// bedrockRequestBody translates an OpenAI chat request body into a
// Converse request body for modelID. dropParams drops OpenAI parameters
// Converse cannot express instead of answering 400.
func bedrockRequestBody(body []byte, modelID string, dropParams bool) ([]byte, *provider.Error) {
	var in provider.OpenAIRequest
	unsupported, _, err := in.Decode(body, converseParams)
	if err != nil {
		return nil, converseBadRequest("", "request body does not parse as an OpenAI chat request: %s", firstLine(err.Error()))
	}
	if in.N != nil && *in.N > 1 {
		unsupported = append(unsupported, "n")
	}
	if len(unsupported) > 0 && !dropParams {
		sort.Strings(unsupported)
		return nil, &provider.Error{Status: 400, Type: "invalid_request_error", Param: unsupported[0], Code: "unsupported_parameter",
			Message: fmt.Sprintf("bedrock's Converse API does not support parameters: %s. Set litellm_settings.drop_params: true (or litellm_params.drop_params) to drop them", strings.Join(unsupported, ", "))}
	}
	var out cvRequest
	if e := converseThinking(&in, &out, modelID, dropParams); e != nil {
		return nil, e
	}
	for i, m := range in.Messages {
		param := fmt.Sprintf("messages[%d].content", i)
		switch m.Role {
		case "system", "developer":
			texts, e := converseTexts(m.Content, param)
			if e != nil {
				return nil, e
			}
			for _, t := range texts {
				out.System = append(out.System, cvBlock{Text: &t})
			}
		case "user":
			blocks, e := converseBlocks(m.Content, param)
			if e != nil {
				return nil, e
			}
			out.Messages = appendConverseTurn(out.Messages, "user", blocks)
		case "assistant":
			blocks, e := converseBlocks(m.Content, param)
			if e != nil {
				return nil, e
			}
			for _, tc := range m.ToolCalls {
				input := json.RawMessage(strings.TrimSpace(tc.Function.Arguments))
				if len(input) == 0 || input[0] != '{' || !json.Valid(input) {
					input = emptyObject
				}
				blocks = append(blocks, cvBlock{ToolUse: &cvToolUse{ToolUseID: tc.ID, Name: tc.Function.Name, Input: input}})
			}
			out.Messages = appendConverseTurn(out.Messages, "assistant", blocks)
		case "tool", "function":
			texts, e := converseTexts(m.Content, param)
			if e != nil {
				return nil, e
			}
			res := &cvToolResult{ToolUseID: m.ToolCallID}
			for _, t := range texts {
				res.Content = append(res.Content, cvBlock{Text: &t})
			}
			if len(res.Content) == 0 {
				empty := "(empty)"
				res.Content = []cvBlock{{Text: &empty}}
			}
			out.Messages = appendConverseTurn(out.Messages, "user", []cvBlock{{ToolResult: res}})
		default:
			return nil, converseBadRequest(fmt.Sprintf("messages[%d].role", i), "unsupported message role %q", m.Role)
		}
	}
	if len(out.Messages) == 0 {
		return nil, converseBadRequest("messages", "messages must contain at least one user message")
	}
	inf := &cvInference{MaxTokens: in.MaxCompletionTokens, Temperature: in.Temperature, TopP: in.TopP}
	if inf.MaxTokens == nil {
		inf.MaxTokens = in.MaxTokens
	}
	var ok bool
	if inf.StopSequences, ok = in.StopSequences(); !ok {
		return nil, converseBadRequest("stop", "stop must be a string or an array of strings")
	}
	fitThinking(&out, inf)
	if inf.MaxTokens != nil || inf.Temperature != nil || inf.TopP != nil || len(inf.StopSequences) > 0 {
		out.InferenceConfig = inf
	}
	if e := bedrockTools(&in, &out); e != nil {
		return nil, e
	}
	b, err := sonic.Marshal(&out)
	if err != nil {
		return nil, converseBadRequest("", "cannot build the Bedrock request: %s", err)
	}
	return b, nil
}

// converseThinking passes extended thinking to Claude models (Converse
// carries it in additionalModelRequestFields): the request's thinking
// object, or reasoning_effort mapped to a budget as for anthropic/.
func converseThinking(in *provider.OpenAIRequest, out *cvRequest, modelID string, dropParams bool) *provider.Error {
	var thinking json.RawMessage
	param := "reasoning_effort"
	switch {
	case len(in.Thinking) > 0 && string(bytes.TrimSpace(in.Thinking)) != "null":
		thinking, param = in.Thinking, "thinking"
	case in.ReasoningEffort != nil:
		t, ok := in.EffortThinking()
		if !ok {
			return converseBadRequest("reasoning_effort", provider.ReasoningEffortValues)
		}
		if t == nil {
			return nil
		}
		thinking = t
	default:
		return nil
	}
	if !strings.Contains(modelID, "anthropic.") {
		if dropParams {
			return nil
		}
		return converseBadRequest(param, "extended thinking through Converse is supported for Anthropic models only")
	}
	if len(thinking) == 0 || thinking[0] != '{' {
		return converseBadRequest("thinking", `thinking must be an object like {"type":"enabled","budget_tokens":1024}`)
	}
	out.Additional = map[string]any{"thinking": thinking}
	return nil
}

// fitThinking raises a thinking budget below Anthropic's minimum to it
// and keeps maxTokens above the budget, as Bedrock's Claude requires.
func fitThinking(out *cvRequest, inf *cvInference) {
	th, ok := out.Additional["thinking"].(json.RawMessage)
	if !ok {
		return
	}
	max, explicit := 0, inf.MaxTokens != nil
	if explicit {
		max = *inf.MaxTokens
	}
	th, fitted := provider.FitThinking(th, max, explicit)
	out.Additional["thinking"] = th
	if fitted != max {
		inf.MaxTokens = &fitted
	}
}

func bedrockTools(in *provider.OpenAIRequest, out *cvRequest) *provider.Error {
	if len(in.Tools) == 0 {
		return nil
	}
	choice := bytes.TrimSpace(in.ToolChoice)
	if string(choice) == `"none"` {
		// Converse has no "none": send no tools at all.
		return nil
	}
	tc := &cvToolConfig{}
	for i, t := range in.Tools {
		if t.Type != "" && t.Type != "function" {
			return converseBadRequest(fmt.Sprintf("tools[%d].type", i), "only function tools are supported by Bedrock's Converse API")
		}
		var ct cvTool
		if f := t.Function; f != nil {
			ct.ToolSpec.Name = f.Name
			ct.ToolSpec.Description = f.Description
			ct.ToolSpec.InputSchema.JSON = f.Parameters
		}
		if len(bytes.TrimSpace(ct.ToolSpec.InputSchema.JSON)) == 0 || string(ct.ToolSpec.InputSchema.JSON) == "null" {
			ct.ToolSpec.InputSchema.JSON = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		tc.Tools = append(tc.Tools, ct)
	}
	switch {
	case len(choice) == 0 || string(choice) == "null" || string(choice) == `"auto"`:
		tc.ToolChoice = map[string]any{"auto": map[string]any{}}
	case string(choice) == `"required"`:
		tc.ToolChoice = map[string]any{"any": map[string]any{}}
	default:
		var named struct {
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		if sonic.Unmarshal(choice, &named) != nil || named.Function.Name == "" {
			return converseBadRequest("tool_choice", `tool_choice must be "none", "auto", "required" or {"type":"function","function":{"name":...}}`)
		}
		tc.ToolChoice = map[string]any{"tool": map[string]any{"name": named.Function.Name}}
	}
	out.ToolConfig = tc
	return nil
}

// appendConverseTurn adds blocks as a turn of role, merging with the previous
// turn when it has the same role: Converse wants user and assistant to
// alternate, OpenAI allows runs (e.g. several tool results).
func appendConverseTurn(msgs []cvMessage, role string, blocks []cvBlock) []cvMessage {
	if len(blocks) == 0 {
		return msgs
	}
	if n := len(msgs); n > 0 && msgs[n-1].Role == role {
		msgs[n-1].Content = append(msgs[n-1].Content, blocks...)
		return msgs
	}
	return append(msgs, cvMessage{Role: role, Content: blocks})
}

// converseTexts reads an OpenAI content (string or array of text parts).
func converseTexts(raw json.RawMessage, param string) ([]string, *provider.Error) {
	blocks, e := converseBlocks(raw, param)
	if e != nil {
		return nil, e
	}
	var out []string
	for _, b := range blocks {
		if b.Text == nil {
			return nil, converseBadRequest(param, "only text content is supported here")
		}
		out = append(out, *b.Text)
	}
	return out, nil
}

// converseBlocks reads an OpenAI content into Converse blocks. Empty text
// is dropped (Converse rejects blank text blocks).
func converseBlocks(raw json.RawMessage, param string) ([]cvBlock, *provider.Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if sonic.Unmarshal(raw, &s) != nil {
			return nil, converseBadRequest(param, "content must be a string or an array of content parts")
		}
		if s == "" {
			return nil, nil
		}
		return []cvBlock{{Text: &s}}, nil
	}
	var parts []provider.OpenAIPart
	if sonic.Unmarshal(raw, &parts) != nil {
		return nil, converseBadRequest(param, "content must be a string or an array of content parts")
	}
	var out []cvBlock
	for i, p := range parts {
		switch p.Type {
		case "text":
			if p.Text != "" {
				t := p.Text
				out = append(out, cvBlock{Text: &t})
			}
		case "image_url":
			var u string
			if p.ImageURL != nil {
				u = p.ImageURL.URL
			}
			img, ok := dataURLImage(u)
			if !ok {
				return nil, converseBadRequest(fmt.Sprintf("%s[%d].image_url.url", param, i), "Bedrock needs images inline: a data:image/(png|jpeg|gif|webp);base64 URL")
			}
			out = append(out, cvBlock{Image: img})
		default:
			return nil, converseBadRequest(fmt.Sprintf("%s[%d].type", param, i), "content part type %q is not supported for Bedrock", p.Type)
		}
	}
	return out, nil
}

// dataURLImage turns data:image/png;base64,... into a Converse image
// block (the JSON form of its bytes is base64, so no decoding needed).
func dataURLImage(u string) (*cvImage, bool) {
	mt, data, ok := provider.ParseDataURL(u)
	mime, isImage := strings.CutPrefix(mt, "image/")
	if !ok || !isImage {
		return nil, false
	}
	switch mime {
	case "jpg":
		mime = "jpeg"
	case "png", "jpeg", "gif", "webp":
	default:
		return nil, false
	}
	img := &cvImage{Format: mime}
	img.Source.Bytes = data
	return img, true
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
