package server

import (
	"context"
	"testing"

	"github.com/openai/openai-go/v3"
)

// Cloudflare Workers AI through the gateway: one answer and one stream
// with the OpenAI SDK. Its URL and credentials are tested beside the
// provider (upstream/provider/cloudflare).
func TestCloudflareThroughGateway(t *testing.T) {
	up := newFakeOpenAI(t)
	d := dep(0, "llama", "cloudflare/@cf/meta/llama-3.3-70b-instruct-fp8-fast", up.base(), "cf-token")
	client := sdk(startGateway(t, testConfig(d)), testMasterKey)
	p := userMsg("hi")
	p.Model = "llama"
	if _, err := client.Chat.Completions.New(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	acc := openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil || acc.Choices[0].Message.Content != "Hello from the fake upstream." {
		t.Fatalf("stream %v %q", err, acc.Choices[0].Message.Content)
	}
	for _, r := range up.requests() {
		if r.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer cf-token" || upstreamModel(r.Body) != "@cf/meta/llama-3.3-70b-instruct-fp8-fast" {
			t.Fatalf("%s %q %s", r.Path, r.Header.Get("Authorization"), r.Body)
		}
	}
}
