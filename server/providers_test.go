package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/openai/openai-go/v3"
)

// Every provider through the gateway: one answer and one stream with
// the OpenAI SDK, so the HTTP edge stays covered for each. What llmedge
// sends each provider and how it translates is tested beside the
// provider (upstream/provider/<name>), against the same fakes; mock/
// through the gateway is in gateway_test.go.

func bedrockDep(i int, name, model, endpoint string) *config.Deployment {
	d := dep(i, name, model, "", "")
	d.Params = providertest.BedrockParams(endpoint)
	return d
}

var converseText = providertest.ConverseText

// byStream answers a stream request with stream, any other with answer.
func byStream(answer, stream providertest.Handler) providertest.Handler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req struct{ Stream bool }
		_ = json.Unmarshal(body, &req)
		if req.Stream {
			stream(w, r, body)
			return
		}
		answer(w, r, body)
	}
}

// sdkStream reads a chat stream with the SDK and folds its chunks.
func sdkStream(t *testing.T, client openai.Client, p openai.ChatCompletionNewParams) openai.ChatCompletionAccumulator {
	t.Helper()
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	acc := openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	return acc
}

func TestEachProviderThroughGateway(t *testing.T) {
	for _, tc := range []struct {
		provider string
		// deployment starts the provider's fake and returns a
		// deployment of group "m" on it, and the text it answers.
		deployment func(t *testing.T) (*config.Deployment, string)
	}{
		{"openai", func(t *testing.T) (*config.Deployment, string) {
			return dep(0, "m", "openai/gpt-4o", providertest.NewUpstream(t, nil).URL()+"/v1", "k"), "Hello from the fake upstream."
		}},
		{"azure", func(t *testing.T) (*config.Deployment, string) {
			up := providertest.NewUpstream(t, providertest.OpenAIAnswer("Hello from Azure."))
			d := dep(0, "m", "azure/my-gpt4o-deployment", up.URL(), "azure-key-123")
			d.APIVersion = "2025-01-01-preview"
			return d, "Hello from Azure."
		}},
		{"cloudflare", func(t *testing.T) (*config.Deployment, string) {
			up := providertest.NewUpstream(t, nil)
			return dep(0, "m", "cloudflare/@cf/meta/llama-3.3-70b-instruct-fp8-fast", up.URL()+"/v1", "cf-token"), "Hello from the fake upstream."
		}},
		{"vertex_ai", func(t *testing.T) (*config.Deployment, string) {
			up := providertest.NewVertex(t)
			d := dep(0, "m", "vertex_ai/gemini-2.5-flash", up.URL(), "")
			d.Params = map[string]any{"vertex_project": "my-proj", "vertex_location": "europe-west4", "vertex_credentials": string(up.ServiceAccountJSON())}
			return d, "Hello from Gemini on Vertex."
		}},
		{"bedrock", func(t *testing.T) (*config.Deployment, string) {
			up := providertest.NewBedrock(t, func(w http.ResponseWriter, op string, req map[string]any) {
				if op != "converse-stream" {
					converseText("Bonjour.", "end_turn")(w, op, req)
					return
				}
				providertest.WriteEvents(w,
					providertest.ESEvent("messageStart", `{"role":"assistant"}`),
					providertest.ESEvent("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"Bon"}}`),
					providertest.ESEvent("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"jour."}}`),
					providertest.ESEvent("contentBlockStop", `{"contentBlockIndex":0}`),
					providertest.ESEvent("messageStop", `{"stopReason":"end_turn"}`),
					providertest.ESEvent("metadata", `{"usage":{"inputTokens":3,"outputTokens":2,"totalTokens":5}}`))
			})
			return bedrockDep(0, "m", "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", up.URL()), "Bonjour."
		}},
		{"anthropic", func(t *testing.T) (*config.Deployment, string) {
			up := providertest.NewUpstream(t, byStream(
				anthropicJSON(`[{"type":"text","text":"Hello world"}]`, "end_turn", 10, 7, 0, 0),
				anthropicSSE(anStart("claude-sonnet-4-5", 12, 0, 0), anBlockStart(0, `{"type":"text","text":""}`),
					anTextDelta(0, "Hello"), anPing, anTextDelta(0, " world"), anBlockStop(0), anMessageDelta("end_turn", 15), anStop)))
			return dep(0, "m", "anthropic/claude-sonnet-4-5", up.URL(), anthropicTestKey), "Hello world"
		}},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			d, want := tc.deployment(t)
			gw := startGateway(t, testConfig(d))
			client := sdk(gw, testMasterKey)
			p := userMsg("hi")
			p.Model = "m"
			resp, err := client.Chat.Completions.New(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			if c := resp.Choices[0]; c.Message.Content != want || c.FinishReason != "stop" {
				t.Fatalf("answer %q finish %q", c.Message.Content, c.FinishReason)
			}
			if c := sdkStream(t, client, p).Choices[0]; c.Message.Content != want || c.FinishReason != "stop" {
				t.Fatalf("stream %q finish %q", c.Message.Content, c.FinishReason)
			}
			raw := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`, testMasterKey)
			if !strings.HasPrefix(raw.Header.Get("Content-Type"), "text/event-stream") || !strings.HasSuffix(raw.Body, "data: [DONE]\n\n") {
				t.Fatalf("raw stream %q", raw.Body)
			}
		})
	}
}
