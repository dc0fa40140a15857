package provider

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/bytedance/sonic"
)

// The OpenAI chat request as the translating providers read it, and
// the pieces of its meaning they share.

// OpenAIRequest is the one model of an OpenAI chat request that the
// translators (anthropic/request.go, bedrock/request.go) read: the
// fields some provider can express. Each translator lists the fields
// it handles (the rest is refused as unsupported unless drop_params).
type OpenAIRequest struct {
	Messages            []OpenAIMessage `json:"messages"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	TopK                *int            `json:"top_k"`
	Stop                json.RawMessage `json:"stop"`
	User                *string         `json:"user"`
	Tools               []OpenAITool    `json:"tools"`
	ToolChoice          json.RawMessage `json:"tool_choice"`
	ParallelToolCalls   *bool           `json:"parallel_tool_calls"`
	Thinking            json.RawMessage `json:"thinking"`
	ReasoningEffort     *string         `json:"reasoning_effort"`
	Metadata            json.RawMessage `json:"metadata"`
	N                   *int            `json:"n"`
	ResponseFormat      json.RawMessage `json:"response_format"`
}

type OpenAIMessage struct {
	Role           string           `json:"role"`
	Content        json.RawMessage  `json:"content"`
	ToolCalls      []OpenAIToolCall `json:"tool_calls"`
	ToolCallID     string           `json:"tool_call_id"`
	ThinkingBlocks json.RawMessage  `json:"thinking_blocks"`
	CacheControl   json.RawMessage  `json:"cache_control"`
}

type OpenAIToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type OpenAITool struct {
	Type     string `json:"type"`
	Function *struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
		Strict      json.RawMessage `json:"strict"`
	} `json:"function"`
	CacheControl json.RawMessage `json:"cache_control"`
}

type OpenAIPart struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	ImageURL *struct {
		URL string `json:"url"`
	} `json:"image_url"`
	CacheControl json.RawMessage `json:"cache_control"`
}

// Decode decodes an OpenAI chat body into in and lists its top-level
// fields that are neither in handled nor null. notJSON means the body
// is not a JSON object at all; another error, that a field has the
// wrong type.
func (in *OpenAIRequest) Decode(body []byte, handled map[string]bool) (unsupported []string, notJSON bool, err error) {
	var top map[string]json.RawMessage
	if err := sonic.Unmarshal(body, &top); err != nil {
		return nil, true, err
	}
	for k, v := range top {
		if !handled[k] && !IsNull(v) {
			unsupported = append(unsupported, k)
		}
	}
	return unsupported, false, sonic.Unmarshal(body, in)
}

// StopSequences reads stop (a string or an array of strings); ok is
// false when it is neither.
func (in *OpenAIRequest) StopSequences() (seqs []string, ok bool) {
	s := bytes.TrimSpace(in.Stop)
	if len(s) == 0 || IsNull(s) {
		return nil, true
	}
	if s[0] == '"' {
		var one string
		if sonic.Unmarshal(s, &one) != nil {
			return nil, false
		}
		return []string{one}, true
	}
	return seqs, sonic.Unmarshal(s, &seqs) == nil
}

// reasoningBudget maps OpenAI's reasoning_effort to a thinking budget
// (LiteLLM's mapping).
var reasoningBudget = map[string]int{"low": 1024, "medium": 2048, "high": 4096}

// ReasoningEffortValues is the 400's message for an unknown effort.
const ReasoningEffortValues = "reasoning_effort must be one of none, minimal, low, medium, high"

// EffortThinking maps reasoning_effort (set) to an extended thinking
// object: nil for none and minimal, ok false for an unknown effort.
func (in *OpenAIRequest) EffortThinking() (thinking json.RawMessage, ok bool) {
	b, known := reasoningBudget[*in.ReasoningEffort]
	if !known {
		e := *in.ReasoningEffort
		return nil, e == "none" || e == "minimal"
	}
	thinking, _ = sonic.Marshal(map[string]any{"type": "enabled", "budget_tokens": b})
	return thinking, true
}

// ParseDataURL splits data:{mediaType};base64,{data}; ok is false for
// any other URL.
func ParseDataURL(u string) (mediaType, data string, ok bool) {
	rest, isData := strings.CutPrefix(u, "data:")
	if !isData {
		return "", "", false
	}
	meta, data, ok := strings.Cut(rest, ",")
	mt, isB64 := strings.CutSuffix(meta, ";base64")
	if !ok || !isB64 || mt == "" {
		return "", "", false
	}
	return mt, data, true
}

// FinishReason maps a provider's stop reason (Anthropic's stop_reason,
// Converse's stopReason) to OpenAI's finish_reason.
func FinishReason[S ~string | ~[]byte](stop S) string {
	switch string(stop) {
	case "max_tokens", "model_context_window_exceeded":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "refusal", "guardrail_intervened", "content_filtered":
		return "content_filter"
	}
	return "stop" // end_turn, stop_sequence, pause_turn
}

// IsNull reports whether v is the JSON null.
func IsNull(v []byte) bool { return string(bytes.TrimSpace(v)) == "null" }
