package chat

import (
	"encoding/json"

	"github.com/bytedance/sonic"
)

// Answer is a chat.completion as the translators read it.
type Answer struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Created int64  `json:"created"`
	Choices []struct {
		Message struct {
			Content          *string    `json:"content"`
			ReasoningContent string     `json:"reasoning_content"`
			Reasoning        string     `json:"reasoning"`
			Refusal          string     `json:"refusal"`
			ToolCalls        []ToolCall `json:"tool_calls"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage json.RawMessage `json:"usage"`
}

// DecodeAnswer decodes a chat.completion.
func DecodeAnswer(body []byte) (*Answer, error) {
	var a Answer
	if err := sonic.Unmarshal(body, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// Text is the first choice's text ("" when none).
func (a *Answer) Text() string {
	if len(a.Choices) == 0 || a.Choices[0].Message.Content == nil {
		return ""
	}
	return *a.Choices[0].Message.Content
}

// ReasoningText is the first choice's reasoning text.
func (a *Answer) ReasoningText() string {
	if len(a.Choices) == 0 {
		return ""
	}
	m := &a.Choices[0].Message
	if m.ReasoningContent != "" {
		return m.ReasoningContent
	}
	return m.Reasoning
}

// Calls are the first choice's tool calls.
func (a *Answer) Calls() []ToolCall {
	if len(a.Choices) == 0 {
		return nil
	}
	return a.Choices[0].Message.ToolCalls
}

// Finish is the first choice's finish_reason.
func (a *Answer) Finish() string {
	if len(a.Choices) == 0 {
		return ""
	}
	return a.Choices[0].FinishReason
}

// ArgsObject is a tool call's arguments as a JSON object: the arguments
// when they are one, else {} (a model that sent broken JSON).
func ArgsObject(args string) json.RawMessage {
	var v map[string]any
	if args == "" || sonic.UnmarshalString(args, &v) != nil || v == nil {
		return json.RawMessage("{}")
	}
	return json.RawMessage(args)
}
