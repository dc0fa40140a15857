package server

import (
	"context"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
)

// litellm_params request defaults reach the upstream merged into the
// body (the client's own value winning), for a pass-through and a
// translated provider; organization becomes OpenAI-Organization.
func TestRequestDefaultsReachUpstream(t *testing.T) {
	oa, an := newFakeOpenAI(t), newFakeOpenAI(t)
	an.setHandler(anthropicJSON(`[{"type":"text","text":"ok"}]`, "end_turn", 1, 1, 0, 0))
	cfg := parseYAML(t, `
model_list:
  - model_name: gpt-4-team2
    litellm_params:
      model: openai/gpt-4
      api_base: `+oa.base()+`
      api_key: k
      temperature: 0.2
      max_tokens: 100
      seed: 7
      stop: ["END"]
      response_format: {type: json_object}
      organization: org-team2
      extra_body: {top_k: 5}
  - model_name: claude
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      api_base: `+an.base()+`
      api_key: `+anthropicTestKey+`
      temperature: 0.3
      max_tokens: 321
general_settings:
  master_key: `+testMasterKey+`
`)
	gw := startGateway(t, cfg)
	if r := rawPost(t, gw, "/v1/chat/completions", `{"model":"gpt-4-team2","messages":[{"role":"user","content":"x"}],"seed":1}`, testMasterKey); r.StatusCode != 200 {
		t.Fatalf("openai: %d %s", r.StatusCode, r.Body)
	}
	if r := rawPost(t, gw, "/v1/chat/completions", `{"model":"claude","messages":[{"role":"user","content":"x"}]}`, testMasterKey); r.StatusCode != 200 {
		t.Fatalf("anthropic: %d %s", r.StatusCode, r.Body)
	}
	req := oa.requests()[0]
	const want = `{"max_tokens":100,"response_format":{"type":"json_object"},"stop":["END"],"temperature":0.2,"top_k":5,"model":"gpt-4","messages":[{"role":"user","content":"x"}],"seed":1}`
	if string(req.Body) != want {
		t.Errorf("openai body:\n got %s\nwant %s", req.Body, want)
	}
	if got := req.Header.Get("OpenAI-Organization"); got != "org-team2" {
		t.Errorf("OpenAI-Organization = %q", got)
	}
	m := jsonMap(t, an.requests()[0].Body)
	if m["max_tokens"] != float64(321) || m["temperature"] != 0.3 {
		t.Errorf("anthropic body: max_tokens %v temperature %v", m["max_tokens"], m["temperature"])
	}
}

// A Claude client's request passed through to an Anthropic deployment
// gets only the defaults Anthropic's Messages API has (seed or stop
// there are a 400), the client's own max_tokens winning; a token count
// gets none (count_tokens refuses max_tokens).
func TestRequestDefaultsOnAnthropicPassThrough(t *testing.T) {
	an := newFakeOpenAI(t)
	an.setHandler(anthropicJSON(`[{"type":"text","text":"ok"}]`, "end_turn", 1, 1, 0, 0))
	cfg := parseYAML(t, `
model_list:
  - model_name: claude
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      api_base: `+an.base()+`
      api_key: `+anthropicTestKey+`
      temperature: 0.3
      max_tokens: 321
      seed: 7
      stop: ["END"]
      extra_body: {top_k: 5}
general_settings:
  master_key: `+testMasterKey+`
`)
	gw := startGateway(t, cfg)
	client := claudeSDK(gw)
	ctx := context.Background()
	if _, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: "claude", MaxTokens: 50,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: "claude",
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}}); err != nil {
		t.Fatal(err)
	}
	reqs := an.requests()
	if len(reqs) != 2 || !strings.HasSuffix(reqs[1].Path, "/count_tokens") {
		t.Fatalf("upstream saw %d requests", len(reqs))
	}
	m := jsonMap(t, reqs[0].Body)
	for k, v := range map[string]any{"temperature": 0.3, "max_tokens": float64(50), "top_k": float64(5), "seed": nil, "stop": nil} {
		if m[k] != v {
			t.Errorf("messages: %s = %v, want %v\n%s", k, m[k], v, reqs[0].Body)
		}
	}
	if c := jsonMap(t, reqs[1].Body); c["temperature"] != nil || c["max_tokens"] != nil || c["top_k"] != nil {
		t.Errorf("count_tokens got defaults: %s", reqs[1].Body)
	}
}
