package server

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/openai/openai-go/v3"
)

// Bedrock through the gateway: one answer and one stream with the
// OpenAI SDK. What llmedge sends Bedrock and how it translates is
// tested beside the provider (upstream/provider/bedrock).

func bedrockDep(i int, name, model, endpoint string) *config.Deployment {
	d := dep(i, name, model, "", "")
	d.Params = map[string]any{
		"aws_access_key_id":            providertest.BedrockCreds.AccessKeyID,
		"aws_secret_access_key":        providertest.BedrockCreds.SecretAccessKey,
		"aws_region_name":              providertest.BedrockRegion,
		"aws_bedrock_runtime_endpoint": endpoint,
	}
	return d
}

func converseText(text, stop string) func(http.ResponseWriter, string, map[string]any) {
	return providertest.ConverseText(text, stop)
}

func TestBedrockThroughGateway(t *testing.T) {
	up := providertest.NewBedrock(t, func(w http.ResponseWriter, op string, req map[string]any) {
		if op != "converse-stream" {
			converseText("Bonjour.", "end_turn")(w, op, req)
			return
		}
		providertest.WriteEvents(w,
			providertest.ESEvent("messageStart", `{"role":"assistant"}`),
			providertest.ESEvent("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"Bon"}}`),
			providertest.ESEvent("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"jour."}}`),
			providertest.ESEvent("messageStop", `{"stopReason":"end_turn"}`),
			providertest.ESEvent("metadata", `{"usage":{"inputTokens":3,"outputTokens":2,"totalTokens":5}}`),
		)
	})
	gw := startGateway(t, testConfig(bedrockDep(0, "claude", "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", up.URL())))
	client := sdk(gw, testMasterKey)
	p := userMsg("Say hello in French.")
	p.Model = "claude"
	resp, err := client.Chat.Completions.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != "Bonjour." || resp.Model != "claude" || resp.Usage.TotalTokens != 17 {
		t.Fatalf("answer %+v", resp)
	}
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	acc := openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if acc.Choices[0].Message.Content != "Bonjour." || acc.Choices[0].FinishReason != "stop" {
		t.Fatalf("stream %+v", acc.Choices[0])
	}
	raw := rawPost(t, gw, "/v1/chat/completions", `{"model":"claude","stream":true,"messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if !strings.HasPrefix(raw.Header.Get("Content-Type"), "text/event-stream") || !strings.HasSuffix(raw.Body, "data: [DONE]\n\n") {
		t.Fatalf("raw stream %q", raw.Body)
	}
}
