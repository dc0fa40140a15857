package chat

import "encoding/json"

// Request is the OpenAI chat request a translator builds. Fields left
// zero are omitted, so a target that does not know a parameter never
// sees it.
type Request struct {
	Model               string          `json:"model"`
	Messages            []Message       `json:"messages"`
	MaxTokens           *int            `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int            `json:"max_completion_tokens,omitempty"`
	Temperature         *float64        `json:"temperature,omitempty"`
	TopP                *float64        `json:"top_p,omitempty"`
	TopK                *int            `json:"top_k,omitempty"`
	Stop                []string        `json:"stop,omitempty"`
	Stream              bool            `json:"stream,omitempty"`
	StreamOptions       *StreamOptions  `json:"stream_options,omitempty"`
	Tools               []Tool          `json:"tools,omitempty"`
	ToolChoice          any             `json:"tool_choice,omitempty"`
	ParallelToolCalls   *bool           `json:"parallel_tool_calls,omitempty"`
	ReasoningEffort     string          `json:"reasoning_effort,omitempty"`
	Thinking            json.RawMessage `json:"thinking,omitempty"`
	ResponseFormat      json.RawMessage `json:"response_format,omitempty"`
	User                string          `json:"user,omitempty"`
}

// StreamOptions asks for the usage-only chunk at the end of a stream.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// Message is one chat message. Content is a string, an array of Parts
// or absent (an assistant message with only tool calls).
type Message struct {
	Role           string          `json:"role"`
	Content        any             `json:"content,omitempty"`
	ToolCalls      []ToolCall      `json:"tool_calls,omitempty"`
	ToolCallID     string          `json:"tool_call_id,omitempty"`
	ThinkingBlocks json.RawMessage `json:"thinking_blocks,omitempty"`
}

// Part is one content part of a user message.
type Part struct {
	Type         string          `json:"type"`
	Text         string          `json:"text,omitempty"`
	ImageURL     *ImageURL       `json:"image_url,omitempty"`
	File         *File           `json:"file,omitempty"`
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

// ImageURL is an image part's URL (an https: or data: URL).
type ImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// File is a file part (a PDF as a data: URL).
type File struct {
	FileData string `json:"file_data,omitempty"`
	Filename string `json:"filename,omitempty"`
	FileID   string `json:"file_id,omitempty"`
}

// ToolCall is an assistant's call of a function tool.
type ToolCall struct {
	ID       string   `json:"id"`
	Type     string   `json:"type"`
	Function Function `json:"function"`
}

// Function names a called function and its JSON arguments (a string).
type Function struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// Tool is a function tool offered to the model.
type Tool struct {
	Type     string  `json:"type"`
	Function ToolDef `json:"function"`
}

// ToolDef describes a function tool.
type ToolDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// NamedToolChoice forces one function.
func NamedToolChoice(name string) any {
	return map[string]any{"type": "function", "function": map[string]string{"name": name}}
}

// Target is what a translator needs to know of the deployment a
// translated request goes to.
type Target struct {
	// Model is the model name the client asked for, echoed in answers.
	Model string
	// Anthropic: the deployment's own translator understands Anthropic
	// extras in a chat request (thinking, thinking_blocks,
	// cache_control, top_k): Anthropic, Bedrock, Vertex Claude.
	Anthropic bool
	// Reasoning: the model takes reasoning_effort (model_info
	// supports_reasoning, or an Anthropic target, whose translator maps
	// it to a thinking budget).
	Reasoning bool
	// MaxCompletionTokens: send max_completion_tokens (OpenAI and
	// Azure, whose reasoning models refuse max_tokens) instead of
	// max_tokens.
	MaxCompletionTokens bool
}

// SetMaxTokens sets the output bound the way t takes it.
func (r *Request) SetMaxTokens(t Target, n *int) {
	if n == nil {
		return
	}
	if t.MaxCompletionTokens {
		r.MaxCompletionTokens = n
	} else {
		r.MaxTokens = n
	}
}
