package upstream

import (
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/provider/azure"
	"github.com/llmedge/llmedge/upstream/provider/bedrock"
)

// The documented default endpoint of every per-deployment provider.
func TestPerDeploymentEndpoints(t *testing.T) {
	env := map[string]string{"CLOUDFLARE_ACCOUNT_ID": "acct123", "CLOUDFLARE_API_KEY": "k", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s",
		"AZURE_API_KEY": "k", "AZURE_API_BASE": "https://res.openai.azure.com/", "VERTEXAI_PROJECT": "proj"}
	for _, tc := range []struct {
		model  string
		params map[string]any
		want   string
	}{
		{"cloudflare/@cf/meta/llama-3.1-8b-instruct", nil, "https://api.cloudflare.com/client/v4/accounts/acct123/ai/v1/chat/completions"},
		{"azure/gpt4o", nil, "https://res.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=" + azure.DefaultAPIVersion},
		{"azure/gpt-5", map[string]any{"api_version": "v1"}, "https://res.openai.azure.com/openai/v1/chat/completions"},
		{"vertex_ai/gemini-2.5-flash", nil, "https://us-central1-aiplatform.googleapis.com/v1/projects/proj/locations/us-central1/endpoints/openapi/chat/completions"},
		{"vertex_ai/gemini-3-pro-preview", map[string]any{"vertex_location": "global"}, "https://aiplatform.googleapis.com/v1/projects/proj/locations/global/endpoints/openapi/chat/completions"},
		{"vertex_ai/claude-opus-4-6@default", map[string]any{"vertex_location": "global"}, "https://aiplatform.googleapis.com/v1/projects/proj/locations/global/publishers/anthropic/models/claude-opus-4-6@default:rawPredict"},
		{"bedrock/amazon.nova-pro-v1:0", nil, "https://bedrock-runtime." + bedrock.DefaultRegion + ".amazonaws.com/model/amazon.nova-pro-v1%3A0/converse"},
	} {
		provider, up, _ := cutProvider(tc.model)
		cd := &config.Deployment{ModelName: "m", ID: "m-0", Model: tc.model, Provider: provider, UpstreamModel: up, Params: tc.params}
		if v, ok := tc.params["api_version"].(string); ok {
			cd.APIVersion = v
		}
		reg, err := NewRegistry(&config.Config{Deployments: []*config.Deployment{cd}}, Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
		if err != nil {
			t.Fatalf("%s: %v", tc.model, err)
		}
		if d := reg.Groups()[0].Deployments[0]; d.URI != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.model, d.URI, tc.want)
		}
	}
}

func cutProvider(model string) (string, string, bool) {
	for i := 0; i < len(model); i++ {
		if model[i] == '/' {
			return model[:i], model[i+1:], true
		}
	}
	return "", model, false
}
