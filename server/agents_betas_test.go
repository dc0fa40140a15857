package server

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/openai/openai-go/v3"
)

// The Python memory proxy's model-name suffix: a model written
// "claude-sonnet-4-5,context-1m-2025-08-07" is served by the group
// before the comma, and the rest is sent as anthropic-beta (merged with
// the client's header on /v1/messages), on /v1/messages and chat.
func TestModelNameBetaSuffix(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(anthropicJSON(`[{"type":"text","text":"ok"}]`, "end_turn", 3, 1, 0, 0))
	gw := startGateway(t, testConfig(anthropicDep(0, "claude-*", up)))

	// /v1/messages: the client's betas first, then the suffix's.
	r := rawRequest(t, gw, "POST", "/v1/messages",
		`{"model":"claude-sonnet-4-5,context-1m-2025-08-07,oauth-2025-04-20","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`,
		"x-api-key: "+testMasterKey, "anthropic-version: 2023-06-01", "anthropic-beta: interleaved-thinking-2025-05-14")
	if r.StatusCode != 200 {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	sent := up.requests()[0]
	if got := sent.Header.Get("Anthropic-Beta"); got != "interleaved-thinking-2025-05-14,context-1m-2025-08-07,oauth-2025-04-20" {
		t.Errorf("anthropic-beta upstream %q", got)
	}
	var body struct{ Model string }
	_ = json.Unmarshal(sent.Body, &body)
	if body.Model != "claude-sonnet-4-5" {
		t.Errorf("model upstream %q", body.Model)
	}

	// Chat: the suffix alone.
	client := sdk(gw, testMasterKey)
	c, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "claude-sonnet-4-5,context-1m-2025-08-07", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Choices[0].Message.Content != "ok" {
		t.Errorf("answer %+v", c)
	}
	sent = up.requests()[1]
	if got := sent.Header.Get("Anthropic-Beta"); got != "context-1m-2025-08-07" {
		t.Errorf("chat: anthropic-beta upstream %q", got)
	}
	_ = json.Unmarshal(sent.Body, &body)
	if body.Model != "claude-sonnet-4-5" {
		t.Errorf("chat: model upstream %q", body.Model)
	}
}

// On Claude hosts that refuse unknown betas the suffix's list is
// filtered: Bedrock's Converse takes it in
// additionalModelRequestFields.anthropic_beta (beside thinking), Vertex
// in the anthropic-beta header.
func TestModelNameBetaSuffixOnBedrockAndVertex(t *testing.T) {
	br := providertest.NewBedrock(t, converseText("Bonjour.", "end_turn"))
	vx := providertest.NewVertex(t)
	gw := startGateway(t, testConfig(bedrockDep(0, "claude-b", "bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0", br.URL()),
		vertexClaudeDep(t, vx, 1, "claude-v")))
	client := sdk(gw, testMasterKey)
	for _, model := range []string{"claude-b", "claude-v"} {
		_, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
			Model:           model + ",context-1m-2025-08-07,claude-code-20250219",
			ReasoningEffort: "low",
			Messages:        []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
		if err != nil {
			t.Fatalf("%s: %v", model, err)
		}
	}
	extra, _ := br.Requests()[0].Body["additionalModelRequestFields"].(map[string]any)
	if b, _ := json.Marshal(extra["anthropic_beta"]); string(b) != `["context-1m-2025-08-07"]` || extra["thinking"] == nil {
		t.Errorf("Converse additionalModelRequestFields %v", extra)
	}
	for _, s := range vx.Requests() {
		if s.Path != "/token" && s.Header.Get("Anthropic-Beta") != "context-1m-2025-08-07" {
			t.Errorf("Vertex anthropic-beta %q", s.Header.Get("Anthropic-Beta"))
		}
	}
}
