package server

import (
	"context"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
)

// Anthropic behind the OpenAI chat route, through the gateway: one
// answer and one stream with the OpenAI SDK. The translation both ways
// is tested beside the provider (upstream/provider/anthropic).
func TestAnthropicThroughGateway(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(anthropicJSON(`[{"type":"text","text":"Bonjour "},{"type":"text","text":"!"}]`, "end_turn", 10, 7, 100, 20))
	gw := startGateway(t, testConfig(anthropicDep(0, "claude", up)))
	client := sdk(gw, testMasterKey)
	p := userMsg("hi")
	p.Model = "claude"
	comp, err := client.Chat.Completions.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if comp.Choices[0].Message.Content != "Bonjour !" || comp.Usage.TotalTokens != 137 {
		t.Errorf("answer %+v", comp)
	}
	// The memory router's default user reaches Anthropic.
	if got := up.requests()[0].Header.Get("X-Sm-User-Id"); got != "default-dev" {
		t.Errorf("x-sm-user-id = %q", got)
	}

	up.setHandler(anthropicSSE(anStart("claude-sonnet-4-5", 12, 30, 4), anBlockStart(0, `{"type":"text","text":""}`),
		anTextDelta(0, "Hello"), anTextDelta(0, " world"), anBlockStop(0), anMessageDelta("end_turn", 15), anStop))
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	acc := openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if acc.Choices[0].Message.Content != "Hello world" || acc.Choices[0].FinishReason != "stop" {
		t.Errorf("stream %+v", acc.Choices[0])
	}
	raw := rawPost(t, gw, "/v1/chat/completions", `{"model":"claude","stream":true,"messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if !strings.HasSuffix(raw.Body, "data: [DONE]\n\n") || raw.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("raw stream: %q", raw.Body)
	}

	// An Anthropic error mid-stream reaches the SDK as the stream's error.
	up.setHandler(anthropicSSE(anStart("claude-sonnet-4-5", 3, 0, 0), anBlockStart(0, `{"type":"text","text":""}`), anTextDelta(0, "partial"),
		anEvent{"error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`}))
	stream = client.Chat.Completions.NewStreaming(context.Background(), p)
	for stream.Next() {
	}
	if err := stream.Err(); err == nil || !strings.Contains(err.Error(), "Overloaded") {
		t.Fatalf("stream error = %v, want the overloaded error", err)
	}
}
