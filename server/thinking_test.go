package server

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
)

// Claude Code with a thinking budget below Anthropic's minimum (1024):
// raised to it, max_tokens kept above it, on every route that sends
// Anthropic thinking. The fakes refuse what Anthropic refuses.

func thinkingParams(budget, maxTokens int64) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{Model: "claude", MaxTokens: maxTokens,
		Thinking: anthropic.ThinkingConfigParamOfEnabled(budget),
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("think"))}}
}

func TestMessagesThinkingBudgetRaisedOnPassThrough(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(anthropicJSON(`[{"type":"text","text":"ok"}]`, "end_turn", 3, 1, 0, 0))
	gw := startGateway(t, testConfig(anthropicDep(0, "claude", up)))
	client := claudeSDK(gw)
	msg, err := client.Messages.New(context.Background(), thinkingParams(500, 800))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Content[0].Text != "ok" {
		t.Fatalf("message %+v", msg)
	}
	var sent struct {
		Model     string
		MaxTokens int `json:"max_tokens"`
		Thinking  struct {
			Budget int `json:"budget_tokens"`
		}
		Messages []any
	}
	if err := json.Unmarshal(up.requests()[0].Body, &sent); err != nil {
		t.Fatal(err)
	}
	if sent.Thinking.Budget != 1024 || sent.MaxTokens != 1824 || sent.Model != "claude-sonnet-4-5" || len(sent.Messages) != 1 {
		t.Fatalf("upstream got %s", up.requests()[0].Body)
	}
}

func TestMessagesThinkingBudgetRaisedOnVertexClaude(t *testing.T) {
	up := providertest.NewVertex(t)
	d := dep(0, "claude", "vertex_ai/claude-sonnet-4-5", up.URL(), "")
	d.Params = map[string]any{"vertex_project": "my-proj", "vertex_location": "us-east5", "vertex_credentials": string(up.ServiceAccountJSON())}
	gw := startGateway(t, testConfig([]*config.Deployment{d}...))
	client := claudeSDK(gw)
	stream := client.Messages.NewStreaming(context.Background(), thinkingParams(100, 1024))
	var acc anthropic.Message
	for stream.Next() {
		if err := acc.Accumulate(stream.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if len(acc.Content) != 1 || acc.Content[0].Text != "Hello from Claude on Vertex." {
		t.Fatalf("streamed %+v", acc)
	}
	body := up.ClaudeBodies()[0]
	th, _ := body["thinking"].(map[string]any)
	if th["budget_tokens"] != 1024.0 || body["max_tokens"] != 2048.0 {
		t.Fatalf("vertex got thinking %v max_tokens %v", body["thinking"], body["max_tokens"])
	}
}
