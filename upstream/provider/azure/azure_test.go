package azure_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/llmedge/llmedge/upstream/upstreamtest"
)

// fakeAzure answers like an Azure OpenAI resource (Azure OpenAI REST
// reference, data plane inference): POST
// /openai/deployments/{deployment}/chat/completions?api-version=... with
// an api-key header or an Entra ID bearer token, OpenAI's body and
// answer formats. Requests without a credential get Azure's 401.
func fakeAzure(t *testing.T) *providertest.Upstream {
	return providertest.NewUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.Header.Get("api-key") == "" && !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint."}}`))
			return
		}
		providertest.OpenAIAnswer("Hello from Azure.")(w, r, body)
	})
}

func azureDep(name, model, base, key, version string) *config.Deployment {
	d := upstreamtest.Dep(name, model, base, key)
	d.APIVersion = version
	return d
}

func chat(model string, stream bool) string {
	s := ""
	if stream {
		s = `"stream":true,`
	}
	return `{"model":"` + model + `",` + s + `"messages":[{"role":"user","content":"hi"}]}`
}

func TestAzureDeploymentURLAndAPIKey(t *testing.T) {
	up := fakeAzure(t)
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "",
		azureDep("gpt-4o", "azure/my-gpt4o-deployment", up.URL()+"/", "azure-key-123", "2025-01-01-preview"),
		azureDep("o3", "azure/o_series/o3-prod", up.URL()+"/", "azure-key-123", "")), nil)

	if c := upstreamtest.Chat(t, reg, chat("gpt-4o", false)).Completion(t); c.Choices[0].Message.Content != "Hello from Azure." {
		t.Fatalf("content %q", c.Choices[0].Message.Content)
	}
	// Stream through the same deployment URL.
	if got := upstreamtest.Chat(t, reg, chat("gpt-4o", true)).Accumulate(t).Choices[0].Message.Content; got != "Hello from Azure." {
		t.Fatalf("stream content %q", got)
	}
	upstreamtest.Chat(t, reg, chat("o3", false)).Completion(t)

	seen := up.Requests()
	want := "/openai/deployments/my-gpt4o-deployment/chat/completions?api-version=2025-01-01-preview"
	if seen[0].RequestURI != want || seen[1].RequestURI != want {
		t.Fatalf("uris %q %q, want %q", seen[0].RequestURI, seen[1].RequestURI, want)
	}
	// o_series/ is LiteLLM's marker, not part of the deployment name; no
	// api_version anywhere gives the GA default.
	if got := seen[2].RequestURI; got != "/openai/deployments/o3-prod/chat/completions?api-version=2024-10-21" {
		t.Fatalf("o_series uri %q", got)
	}
	h := seen[0].Header
	if h.Get("api-key") != "azure-key-123" || h.Get("Authorization") != "" {
		t.Fatalf("auth headers: api-key %q Authorization %q", h.Get("api-key"), h.Get("Authorization"))
	}
	if m := providertest.RequestModel(seen[0].Body); m != "my-gpt4o-deployment" {
		t.Fatalf("body model %q", m)
	}
}

func TestAzureADTokenAndEnvVersion(t *testing.T) {
	up := fakeAzure(t)
	d := upstreamtest.Dep("gpt", "azure/gpt-dep", up.URL(), "")
	d.Params = map[string]any{"azure_ad_token": "eyJ-entra-token"}
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "", d), map[string]string{"AZURE_API_VERSION": "2024-06-01"})
	upstreamtest.Chat(t, reg, chat("gpt", false)).Completion(t)
	seen := up.Requests()[0]
	if seen.RequestURI != "/openai/deployments/gpt-dep/chat/completions?api-version=2024-06-01" {
		t.Fatalf("uri %q", seen.RequestURI)
	}
	if got := seen.Header.Get("Authorization"); got != "Bearer eyJ-entra-token" || seen.Header.Get("api-key") != "" {
		t.Fatalf("Authorization %q", got)
	}
}

func TestAzureV1APIPutsDeploymentInBody(t *testing.T) {
	up := fakeAzure(t)
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "", azureDep("gpt-5", "azure/gpt-5", up.URL(), "k", "preview")), nil)
	upstreamtest.Chat(t, reg, chat("gpt-5", false)).Completion(t)
	seen := up.Requests()[0]
	if seen.RequestURI != "/openai/v1/chat/completions?api-version=preview" || providertest.RequestModel(seen.Body) != "gpt-5" {
		t.Fatalf("uri %q body %s", seen.RequestURI, seen.Body)
	}
}

func TestAzureWithoutCredentialsIs503(t *testing.T) {
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "", upstreamtest.Dep("gpt", "azure/gpt-dep", "http://127.0.0.1:9", "")), nil)
	r := upstreamtest.Chat(t, reg, chat("gpt", false))
	if r.Status != 503 || !strings.Contains(r.Body, "AZURE_API_KEY") {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
}

// Azure serves embeddings on the same deployment URL scheme.
func TestAzureEmbeddings(t *testing.T) {
	up := providertest.NewUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":1,"total_tokens":1}}`))
	})
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "", azureDep("embed", "azure/emb-small", up.URL(), "k2", "2024-06-01")), nil)
	r := upstreamtest.Do(t, reg, upstreamtest.Request(`{"model":"embed","input":"x"}`, upstream.RouteEmbeddings))
	seen := up.Requests()[0]
	if r.Status != 200 || !strings.Contains(r.Body, `"embedding":[0.1,0.2]`) ||
		seen.RequestURI != "/openai/deployments/emb-small/embeddings?api-version=2024-06-01" || seen.Header.Get("api-key") != "k2" {
		t.Fatalf("uri %q key %q answer %d %s", seen.RequestURI, seen.Header.Get("api-key"), r.Status, r.Body)
	}
}
