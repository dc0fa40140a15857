package server

import (
	"context"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
)

// Azure OpenAI through the gateway: one answer and one stream with the
// OpenAI SDK, reaching the deployment URL. URLs, auth and API versions
// are tested beside the provider (upstream/provider/azure).
func TestAzureThroughGateway(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(answerJSON("Hello from Azure."))
	d := dep(0, "gpt-4o", "azure/my-gpt4o-deployment", strings.TrimSuffix(up.base(), "/v1"), "azure-key-123")
	d.APIVersion = "2025-01-01-preview"
	client := sdk(startGateway(t, testConfig(d)), testMasterKey)
	p := userMsg("hi")
	p.Model = "gpt-4o"
	resp, err := client.Chat.Completions.New(context.Background(), p)
	if err != nil || resp.Choices[0].Message.Content != "Hello from Azure." {
		t.Fatalf("answer %v %+v", err, resp)
	}
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	acc := openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil || acc.Choices[0].Message.Content != "Hello from Azure." {
		t.Fatalf("stream %v %q", err, acc.Choices[0].Message.Content)
	}
	want := "/openai/deployments/my-gpt4o-deployment/chat/completions"
	for _, r := range up.requests() {
		if r.Path != want || r.Header.Get("api-key") != "azure-key-123" {
			t.Fatalf("path %q api-key %q", r.Path, r.Header.Get("api-key"))
		}
	}
}
