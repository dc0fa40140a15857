package server

import (
	"testing"
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
