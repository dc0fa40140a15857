package server

import (
	"context"
	"testing"

	"github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/openai/openai-go/v3"
)

// Vertex AI through the gateway: one answer and one stream with the
// OpenAI SDK, a token fetched from the service account. Credentials,
// URLs and Claude's rawPredict are tested beside the provider
// (upstream/provider/vertex).
func TestVertexThroughGateway(t *testing.T) {
	up := providertest.NewVertex(t)
	d := dep(0, "gemini", "vertex_ai/gemini-2.5-flash", up.URL(), "")
	d.Params = map[string]any{"vertex_project": "my-proj", "vertex_location": "europe-west4", "vertex_credentials": string(up.ServiceAccountJSON())}
	client := sdk(startGateway(t, testConfig(d)), testMasterKey)
	p := userMsg("hi")
	p.Model = "gemini"
	resp, err := client.Chat.Completions.New(context.Background(), p)
	if err != nil || resp.Choices[0].Message.Content != "Hello from Gemini on Vertex." {
		t.Fatalf("answer %v %+v", err, resp)
	}
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	acc := openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil || acc.Choices[0].Message.Content != "Hello from Gemini on Vertex." {
		t.Fatalf("stream %v %q", err, acc.Choices[0].Message.Content)
	}
	if chats := up.Chats(); len(chats) != 2 || chats[1].Auth != "Bearer ya29.fake-1" {
		t.Fatalf("chats %v", chats)
	}
}
