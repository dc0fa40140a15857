package server

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
)

// A deployment with an invalid extra_headers name is unavailable (503
// naming the key); the others are served.
func TestInvalidDeploymentIsUnavailableOthersServed(t *testing.T) {
	up := newFakeOpenAI(t)
	cfg := parseYAML(t, `
model_list:
  - model_name: good
    litellm_params: {model: openai/gpt-4o, api_base: `+up.base()+`, api_key: k}
  - model_name: bad
    litellm_params:
      model: openai/gpt-4o
      api_base: `+up.base()+`
      api_key: k
      extra_headers: {"x bad": v}
general_settings:
  master_key: `+testMasterKey+`
`)
	gw := startGateway(t, cfg)
	client := sdk(gw, testMasterKey)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := userMsg("hi")
	p.Model = "good"
	if _, err := client.Chat.Completions.New(ctx, p); err != nil {
		t.Fatalf("good: %v", err)
	}
	p.Model = "bad"
	_, err := client.Chat.Completions.New(ctx, p)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || !strings.Contains(apiErr.Message, "extra_headers.x bad: not a valid HTTP header name") {
		t.Fatalf("bad: %v, want 503 naming the header", err)
	}
	if len(up.requests()) != 1 {
		t.Errorf("upstream saw %d requests", len(up.requests()))
	}
}
