package anthropic

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/bytedance/sonic"
	"github.com/llmedge/llmedge/upstream/provider"
)

// anResponse is a non-stream Anthropic Messages answer.
type anResponse struct {
	ID         string        `json:"id"`
	Model      string        `json:"model"`
	Content    []anRespBlock `json:"content"`
	StopReason string        `json:"stop_reason"`
	Usage      anUsage       `json:"usage"`
}

type anRespBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	Thinking  string          `json:"thinking"`
	Signature string          `json:"signature"`
	Data      string          `json:"data"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
}

// anUsage is Anthropic's usage object.
type anUsage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

// oaUsage is OpenAI's usage object with the cache details; the two
// cache_* members at the top level are LiteLLM's, kept for its clients.
type oaUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens        int `json:"cached_tokens"`
		CacheCreationTokens int `json:"cache_creation_tokens"`
	} `json:"prompt_tokens_details"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

// openAIUsage converts usage. OpenAI's prompt_tokens counts cached
// tokens too; Anthropic's input_tokens does not, so they are added.
func (u anUsage) openAI() oaUsage {
	var o oaUsage
	o.PromptTokens = u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens
	o.CompletionTokens = u.OutputTokens
	o.TotalTokens = o.PromptTokens + o.CompletionTokens
	o.PromptTokensDetails.CachedTokens = u.CacheReadInputTokens
	o.PromptTokensDetails.CacheCreationTokens = u.CacheCreationInputTokens
	o.CacheCreationInputTokens = u.CacheCreationInputTokens
	o.CacheReadInputTokens = u.CacheReadInputTokens
	return o
}

type oaCompletion struct {
	ID      string     `json:"id"`
	Object  string     `json:"object"`
	Created int64      `json:"created"`
	Model   string     `json:"model"`
	Choices []oaChoice `json:"choices"`
	Usage   oaUsage    `json:"usage"`
}

type oaChoice struct {
	Index        int       `json:"index"`
	Message      oaRespMsg `json:"message"`
	Logprobs     *struct{} `json:"logprobs"`
	FinishReason string    `json:"finish_reason"`
}

type oaRespMsg struct {
	Role             string                    `json:"role"`
	Content          *string                   `json:"content"`
	Refusal          *string                   `json:"refusal"`
	ToolCalls        []provider.OpenAIToolCall `json:"tool_calls,omitempty"`
	ReasoningContent *string                   `json:"reasoning_content,omitempty"`
	ThinkingBlocks   []map[string]any          `json:"thinking_blocks,omitempty"`
}

// translateResponse turns an Anthropic message into a chat.completion
// appended to dst.
func translateResponse(dst, body []byte) ([]byte, error) {
	var in anResponse
	if err := sonic.Unmarshal(body, &in); err != nil {
		return dst, err
	}
	out := oaCompletion{ID: in.ID, Object: "chat.completion", Created: time.Now().Unix(), Model: in.Model, Usage: in.Usage.openAI()}
	msg := oaRespMsg{Role: "assistant"}
	var text, thinking strings.Builder
	hasThinking := false
	for _, b := range in.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "thinking":
			hasThinking = true
			thinking.WriteString(b.Thinking)
			msg.ThinkingBlocks = append(msg.ThinkingBlocks, map[string]any{"type": "thinking", "thinking": b.Thinking, "signature": b.Signature})
		case "redacted_thinking":
			msg.ThinkingBlocks = append(msg.ThinkingBlocks, map[string]any{"type": "redacted_thinking", "data": b.Data})
		case "tool_use":
			tc := provider.OpenAIToolCall{ID: b.ID, Type: "function"}
			tc.Function.Name = b.Name
			tc.Function.Arguments = string(b.Input)
			if len(b.Input) == 0 {
				tc.Function.Arguments = "{}"
			}
			msg.ToolCalls = append(msg.ToolCalls, tc)
		}
	}
	if text.Len() > 0 || len(msg.ToolCalls) == 0 {
		s := text.String()
		msg.Content = &s
	}
	if hasThinking {
		s := thinking.String()
		msg.ReasoningContent = &s
	}
	out.Choices = []oaChoice{{Message: msg, FinishReason: provider.FinishReason(in.StopReason)}}
	b, err := sonic.Marshal(&out)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}
