package provider

import (
	"bytes"
	"encoding/json"

	"github.com/bytedance/sonic"

	"github.com/llmedge/llmedge/internal/jsonx"
)

// MinThinkingBudget is the smallest budget_tokens Anthropic accepts for
// extended thinking; a smaller one is a 400 from Anthropic, Bedrock and
// Vertex alike.
const MinThinkingBudget = 1024

// FitThinking makes an Anthropic thinking object acceptable: an
// enabled budget below MinThinkingBudget is raised to it, and
// maxTokens is kept above the budget (Anthropic requires max_tokens >
// budget_tokens). When max_tokens has to grow, the answer's own
// allowance is kept on top of the budget: budget + maxTokens, or
// budget + DefaultAnthropicMaxTokens when the client named none
// (explicit false). Objects of another type (disabled, adaptive) and
// objects that do not parse are returned unchanged; so is thinking
// whose budget already fits (no copy).
func FitThinking(thinking json.RawMessage, maxTokens int, explicit bool) (json.RawMessage, int) {
	if len(thinking) == 0 || IsNull(thinking) {
		return thinking, maxTokens
	}
	var t map[string]any
	if sonic.Unmarshal(thinking, &t) != nil || t["type"] != "enabled" {
		return thinking, maxTokens
	}
	budget, ok := t["budget_tokens"].(float64)
	if !ok {
		return thinking, maxTokens
	}
	b := int(budget)
	if b < MinThinkingBudget {
		b = MinThinkingBudget
		t["budget_tokens"] = b
		if raised, err := sonic.Marshal(t); err == nil {
			thinking = raised
		}
	}
	if maxTokens <= b {
		if explicit && maxTokens > 0 {
			maxTokens += b
		} else {
			maxTokens = b + DefaultAnthropicMaxTokens
		}
	}
	return thinking, maxTokens
}

var budgetKey = []byte(`"budget_tokens"`)

// FitThinkingBody applies FitThinking to a native Anthropic Messages
// body (POST /v1/messages passed through). It returns the body to send
// with its "model" replaced by model (a JSON literal) and ok true when
// something had to change; ok false (the body passes through as it
// is) otherwise. Bodies without "budget_tokens" cost one byte search.
func FitThinkingBody(body, model []byte) (fixed []byte, ok bool) {
	if !bytes.Contains(body, budgetKey) {
		return nil, false
	}
	thinking := jsonx.Get(body, "thinking")
	if thinking == nil {
		return nil, false
	}
	maxTokens := jsonx.Int(body, "max_tokens")
	t, m := FitThinking(thinking, maxTokens, true)
	if m == maxTokens && bytes.Equal(t, thinking) {
		return nil, false
	}
	var doc map[string]json.RawMessage
	if sonic.Unmarshal(body, &doc) != nil {
		return nil, false
	}
	doc["thinking"] = t
	mb, _ := sonic.Marshal(m)
	doc["max_tokens"] = mb
	doc["model"] = model
	out, err := sonic.Marshal(doc)
	if err != nil {
		return nil, false
	}
	return out, true
}
