package server

import (
	"context"
	"strings"
	"testing"
)

// Anthropic behind the OpenAI chat route: what the server adds (the
// memory router's user) and an Anthropic error mid-stream as the SDK
// sees it. The translation both ways is tested beside the provider
// (upstream/provider/anthropic); one answer and one stream through the
// gateway in providers_test.go.
func TestAnthropicUserAndMidStreamErrorThroughGateway(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(anthropicJSON(`[{"type":"text","text":"Bonjour !"}]`, "end_turn", 10, 7, 100, 20))
	client := sdk(startGateway(t, testConfig(anthropicDep(0, "claude", up))), testMasterKey)
	p := userMsg("hi")
	p.Model = "claude"
	if _, err := client.Chat.Completions.New(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	// Without user_id_mappings no user id goes to Anthropic.
	if got, ok := up.requests()[0].Header["X-Sm-User-Id"]; ok {
		t.Errorf("x-sm-user-id = %q without user_id_mappings", got)
	}

	up.setHandler(anthropicSSE(anStart("claude-sonnet-4-5", 3, 0, 0), anBlockStart(0, `{"type":"text","text":""}`), anTextDelta(0, "partial"),
		anEvent{"error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`}))
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	var text strings.Builder
	for stream.Next() {
		if c := stream.Current(); len(c.Choices) > 0 {
			text.WriteString(c.Choices[0].Delta.Content)
		}
	}
	if err := stream.Err(); text.String() != "partial" || err == nil || !strings.Contains(err.Error(), "Overloaded") {
		t.Fatalf("text %q, stream error = %v, want the overloaded error", text.String(), err)
	}
}
