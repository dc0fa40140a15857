package server

import (
	"context"
	"github.com/openai/openai-go/v3"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// azureSeen records what the fake Azure OpenAI resource received.
type azureSeen struct {
	mu      sync.Mutex
	uris    []string
	headers []http.Header
	models  []string
}

// fakeAzure answers like an Azure OpenAI resource (Azure OpenAI REST
// reference, data plane inference): POST
// /openai/deployments/{deployment}/chat/completions?api-version=... with
// an api-key header or an Entra ID bearer token, OpenAI's body and
// answer formats. Requests without a credential get Azure's 401.
func fakeAzure(t *testing.T) (*fakeOpenAI, *azureSeen) {
	up := newFakeOpenAI(t)
	seen := &azureSeen{}
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		seen.mu.Lock()
		seen.uris = append(seen.uris, r.URL.RequestURI())
		seen.headers = append(seen.headers, r.Header.Clone())
		seen.models = append(seen.models, upstreamModel(body))
		seen.mu.Unlock()
		if r.Header.Get("api-key") == "" && !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint."}}`))
			return
		}
		answerJSON("Hello from Azure.")(w, r, body)
	})
	return up, seen
}

func TestAzureDeploymentURLAndAPIKey(t *testing.T) {
	up, seen := fakeAzure(t)
	base := strings.TrimSuffix(up.base(), "/v1") + "/"
	d := dep(0, "gpt-4o", "azure/my-gpt4o-deployment", base, "azure-key-123")
	d.APIVersion = "2025-01-01-preview"
	d2 := dep(1, "o3", "azure/o_series/o3-prod", base, "azure-key-123")
	gw := startGateway(t, testConfig(d, d2))
	client := sdk(gw, testMasterKey)

	p := userMsg("hi")
	p.Model = "gpt-4o"
	resp, err := client.Chat.Completions.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != "Hello from Azure." {
		t.Fatalf("content %q", resp.Choices[0].Message.Content)
	}
	// Stream through the same deployment URL.
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	acc := openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if got := acc.Choices[0].Message.Content; got != "Hello from Azure." {
		t.Fatalf("stream content %q", got)
	}
	p.Model = "o3"
	if _, err := client.Chat.Completions.New(context.Background(), p); err != nil {
		t.Fatal(err)
	}

	seen.mu.Lock()
	defer seen.mu.Unlock()
	want := "/openai/deployments/my-gpt4o-deployment/chat/completions?api-version=2025-01-01-preview"
	if seen.uris[0] != want || seen.uris[1] != want {
		t.Fatalf("uris %q, want %q", seen.uris, want)
	}
	// o_series/ is LiteLLM's marker, not part of the deployment name; no
	// api_version anywhere gives the GA default.
	if got := seen.uris[2]; got != "/openai/deployments/o3-prod/chat/completions?api-version=2024-10-21" {
		t.Fatalf("o_series uri %q", got)
	}
	h := seen.headers[0]
	if h.Get("api-key") != "azure-key-123" || h.Get("Authorization") != "" {
		t.Fatalf("auth headers: api-key %q Authorization %q", h.Get("api-key"), h.Get("Authorization"))
	}
	if seen.models[0] != "my-gpt4o-deployment" {
		t.Fatalf("body model %q", seen.models[0])
	}
}

func TestAzureADTokenAndEnvVersion(t *testing.T) {
	up, seen := fakeAzure(t)
	base := strings.TrimSuffix(up.base(), "/v1")
	d := dep(0, "gpt", "azure/gpt-dep", base, "")
	d.Params = map[string]any{"azure_ad_token": "eyJ-entra-token"}
	cfg := testConfig(d)
	env := map[string]string{"AZURE_API_VERSION": "2024-06-01"}
	gw := startGatewayEnv(t, cfg, env)
	p := userMsg("hi")
	p.Model = "gpt"
	client := sdk(gw, testMasterKey)
	if _, err := client.Chat.Completions.New(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	seen.mu.Lock()
	defer seen.mu.Unlock()
	if seen.uris[0] != "/openai/deployments/gpt-dep/chat/completions?api-version=2024-06-01" {
		t.Fatalf("uri %q", seen.uris[0])
	}
	if got := seen.headers[0].Get("Authorization"); got != "Bearer eyJ-entra-token" || seen.headers[0].Get("api-key") != "" {
		t.Fatalf("Authorization %q", got)
	}
}

func TestAzureV1APIPutsDeploymentInBody(t *testing.T) {
	up, seen := fakeAzure(t)
	base := strings.TrimSuffix(up.base(), "/v1")
	d := dep(0, "gpt-5", "azure/gpt-5", base, "k")
	d.APIVersion = "preview"
	gw := startGateway(t, testConfig(d))
	p := userMsg("hi")
	p.Model = "gpt-5"
	client := sdk(gw, testMasterKey)
	if _, err := client.Chat.Completions.New(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	seen.mu.Lock()
	defer seen.mu.Unlock()
	if seen.uris[0] != "/openai/v1/chat/completions?api-version=preview" || seen.models[0] != "gpt-5" {
		t.Fatalf("uri %q model %q", seen.uris[0], seen.models[0])
	}
}

func TestAzureWithoutCredentialsIs503(t *testing.T) {
	d := dep(0, "gpt", "azure/gpt-dep", "http://127.0.0.1:9", "")
	gw := startGateway(t, testConfig(d))
	resp := rawPost(t, gw, "/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if resp.StatusCode != 503 || !strings.Contains(resp.Body, "AZURE_API_KEY") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
}

// Azure serves embeddings on the same deployment URL scheme.
func TestAzureEmbeddings(t *testing.T) {
	up := newFakeOpenAI(t)
	var uri, key string
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		uri, key = r.URL.RequestURI(), r.Header.Get("api-key")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":1,"total_tokens":1}}`))
	})
	d := dep(0, "embed", "azure/emb-small", strings.TrimSuffix(up.base(), "/v1"), "k2")
	d.APIVersion = "2024-06-01"
	gw := startGateway(t, testConfig(d))
	client := sdk(gw, testMasterKey)
	res, err := client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{Model: "embed", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Data) != 1 || uri != "/openai/deployments/emb-small/embeddings?api-version=2024-06-01" || key != "k2" {
		t.Fatalf("uri %q key %q data %v", uri, key, res.Data)
	}
}
