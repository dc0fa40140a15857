package server

import (
	"context"
	"testing"
	"time"
)

// router_settings.model_group_alias: both forms are served; hidden
// aliases are not listed by /v1/models.
func TestModelGroupAlias(t *testing.T) {
	up := newFakeOpenAI(t)
	cfg := parseYAML(t, `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o-2024, api_base: `+up.base()+`, api_key: k}
router_settings:
  model_group_alias:
    fast: gpt-4o
    secret: {model: gpt-4o, hidden: true}
general_settings:
  master_key: `+testMasterKey+`
`)
	gw := startGateway(t, cfg)
	client := sdk(gw, testMasterKey)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, m := range []string{"fast", "secret"} {
		p := userMsg("hi")
		p.Model = m
		if _, err := client.Chat.Completions.New(ctx, p); err != nil {
			t.Fatalf("alias %s: %v", m, err)
		}
	}
	for _, r := range up.requests() {
		if got := jsonMap(t, r.Body)["model"]; got != "gpt-4o-2024" {
			t.Errorf("upstream model %v", got)
		}
	}
	page, err := client.Models.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
	}
	if len(ids) != 2 || ids[0] != "gpt-4o" || ids[1] != "fast" {
		t.Errorf("/v1/models = %q, want gpt-4o and fast (secret is hidden)", ids)
	}
}
