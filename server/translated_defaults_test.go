package server

import (
	"context"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/llmedge/llmedge/upstream"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
)

// Request defaults and the "*" catch-all also apply when a client of
// another API is served through a chat deployment: /v1/messages
// (Claude SDK) and /v1/responses (openai-go's Responses client) are
// translated to chat, and the chat body the upstream gets carries the
// deployment's defaults, the client's own values winning.

func TestRequestDefaultsOnTranslatedRoutes(t *testing.T) {
	up := newFakeOpenAI(t)
	cfg := parseYAML(t, `
model_list:
  - model_name: gpt
    litellm_params:
      model: openai/gpt-4o
      api_base: `+up.base()+`
      api_key: sk-up
      temperature: 0.2
      seed: 7
      max_tokens: 100
      extra_body: {top_k: 5}
    model_info: {mode: chat}
general_settings:
  master_key: `+testMasterKey+`
`)
	gw := startGateway(t, cfg)
	ctx := context.Background()
	claude, client := claudeSDK(gw), sdk(gw, testMasterKey)
	if _, err := claude.Messages.New(ctx, anthropic.MessageNewParams{Model: "gpt", MaxTokens: 50, TopP: anthropic.Float(0.5),
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")}, Temperature: openai.Float(0.9)}); err != nil {
		t.Fatal(err)
	}
	reqs := up.requests()
	if len(reqs) != 2 {
		t.Fatalf("upstream saw %d requests", len(reqs))
	}
	for i, want := range []map[string]any{
		// The Claude SDK's max_tokens is required: it wins (as
		// max_completion_tokens for OpenAI), so max_tokens is not added.
		{"temperature": 0.2, "seed": float64(7), "top_k": float64(5), "top_p": 0.5, "max_completion_tokens": float64(50), "max_tokens": nil},
		{"temperature": 0.9, "seed": float64(7), "top_k": float64(5), "max_tokens": float64(100)},
	} {
		if reqs[i].Path != "/v1/chat/completions" {
			t.Fatalf("request %d went to %s", i, reqs[i].Path)
		}
		m := jsonMap(t, reqs[i].Body)
		for k, v := range want {
			if m[k] != v {
				t.Errorf("request %d: %s = %v, want %v\n%s", i, k, m[k], v, reqs[i].Body)
			}
		}
	}
}

func TestCatchAllOnTranslatedRoutes(t *testing.T) {
	up := newFakeOpenAI(t)
	cfg := parseYAML(t, `
model_list:
  - model_name: "*"
    litellm_params: {model: "*", api_base: `+up.base()+`, temperature: 0.4}
general_settings:
  master_key: `+testMasterKey+`
`)
	env := map[string]string{"DEEPSEEK_API_KEY": "sk-env-deepseek"}
	gw := startGatewayWith(t, cfg, upstream.Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	ctx := context.Background()
	claude, client := claudeSDK(gw), sdk(gw, testMasterKey)
	if _, err := claude.Messages.New(ctx, anthropic.MessageNewParams{Model: "deepseek/deepseek-chat", MaxTokens: 50,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "deepseek/deepseek-chat",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")}}); err != nil {
		t.Fatal(err)
	}
	reqs := up.requests()
	if len(reqs) != 2 {
		t.Fatalf("upstream saw %d requests", len(reqs))
	}
	for i, r := range reqs {
		m := jsonMap(t, r.Body)
		if r.Path != "/v1/chat/completions" || m["model"] != "deepseek-chat" || m["temperature"] != 0.4 {
			t.Errorf("request %d: %s model %v temperature %v, want /v1/chat/completions deepseek-chat 0.4\n%s", i, r.Path, m["model"], m["temperature"], r.Body)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer sk-env-deepseek" {
			t.Errorf("request %d: Authorization %q", i, got)
		}
	}
}
