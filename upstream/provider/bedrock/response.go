package bedrock

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"

	"github.com/bytedance/sonic"
	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/upstream/provider"
)

// Converse response (Amazon Bedrock API reference, Converse).
type cvResponse struct {
	Output struct {
		Message struct {
			Role    string         `json:"role"`
			Content []cvOutContent `json:"content"`
		} `json:"message"`
	} `json:"output"`
	StopReason string  `json:"stopReason"`
	Usage      cvUsage `json:"usage"`
}

type cvOutContent struct {
	Text    *string `json:"text"`
	ToolUse *struct {
		ToolUseID string          `json:"toolUseId"`
		Name      string          `json:"name"`
		Input     json.RawMessage `json:"input"`
	} `json:"toolUse"`
	ReasoningContent *struct {
		ReasoningText *struct {
			Text string `json:"text"`
		} `json:"reasoningText"`
	} `json:"reasoningContent"`
}

type cvUsage struct {
	InputTokens           int `json:"inputTokens"`
	OutputTokens          int `json:"outputTokens"`
	TotalTokens           int `json:"totalTokens"`
	CacheReadInputTokens  int `json:"cacheReadInputTokens"`
	CacheWriteInputTokens int `json:"cacheWriteInputTokens"`
}

// chatID is a fresh OpenAI-style completion id.
func chatID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "chatcmpl-" + hex.EncodeToString(b[:])
}

// appendOpenAIUsage appends "usage":{...}. OpenAI's prompt_tokens counts
// cached input too; Converse reports cache reads and writes apart.
func appendOpenAIUsage(b []byte, u *cvUsage) []byte {
	prompt := u.InputTokens + u.CacheReadInputTokens + u.CacheWriteInputTokens
	b = provider.AppendUsage(b, prompt, u.OutputTokens)
	b = b[:len(b)-1]
	b = append(b, `,"prompt_tokens_details":{"cached_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CacheReadInputTokens), 10)
	return append(b, "}}"...)
}

// bedrockResponseBody translates a Converse response into an OpenAI
// chat.completion for the client's model name.
func bedrockResponseBody(dst, body, model []byte, created int64) ([]byte, error) {
	var r cvResponse
	if err := sonic.Unmarshal(body, &r); err != nil {
		return dst, err
	}
	var text, reasoning []byte
	hasText := false
	b := dst
	b = append(b, `{"id":"`...)
	b = append(b, chatID()...)
	b = append(b, `","object":"chat.completion","created":`...)
	b = strconv.AppendInt(b, created, 10)
	b = append(b, `,"model":`...)
	b = jsonx.AppendString(b, model)
	b = append(b, `,"choices":[{"index":0,"message":{"role":"assistant","content":`...)
	calls := 0
	var tools []byte
	for _, c := range r.Output.Message.Content {
		switch {
		case c.Text != nil:
			text = append(text, *c.Text...)
			hasText = true
		case c.ToolUse != nil:
			if calls > 0 {
				tools = append(tools, ',')
			}
			tools = append(tools, `{"id":`...)
			tools = jsonx.AppendString(tools, c.ToolUse.ToolUseID)
			tools = append(tools, `,"type":"function","function":{"name":`...)
			tools = jsonx.AppendString(tools, c.ToolUse.Name)
			tools = append(tools, `,"arguments":`...)
			args := c.ToolUse.Input
			if len(args) == 0 {
				args = emptyObject
			}
			tools = jsonx.AppendString(tools, compactJSON(args))
			tools = append(tools, "}}"...)
			calls++
		case c.ReasoningContent != nil && c.ReasoningContent.ReasoningText != nil:
			reasoning = append(reasoning, c.ReasoningContent.ReasoningText.Text...)
		}
	}
	if hasText {
		b = jsonx.AppendString(b, text)
	} else {
		b = append(b, "null"...)
	}
	if len(reasoning) > 0 {
		b = append(b, `,"reasoning_content":`...)
		b = jsonx.AppendString(b, reasoning)
	}
	if calls > 0 {
		b = append(b, `,"tool_calls":[`...)
		b = append(b, tools...)
		b = append(b, ']')
	}
	b = append(b, `,"refusal":null},"logprobs":null,"finish_reason":"`...)
	b = append(b, provider.FinishReason(r.StopReason)...)
	b = append(b, `"}],`...)
	b = appendOpenAIUsage(b, &r.Usage)
	return append(b, '}'), nil
}

// compactJSON returns raw without insignificant whitespace (tool
// arguments as OpenAI clients expect them).
func compactJSON(raw []byte) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return raw
	}
	return buf.Bytes()
}
