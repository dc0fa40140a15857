package upstream

import (
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/provider"
)

func TestRouteURIs(t *testing.T) {
	for base, want := range map[string]string{
		"https://api.openai.com/v1":                   "https://api.openai.com/v1/embeddings",
		"https://api.openai.com/v1/":                  "https://api.openai.com/v1/embeddings",
		"http://h:8000/v1/chat/completions":           "http://h:8000/v1/embeddings",
		"https://x.openai.azure.com/openai/v1/":       "https://x.openai.azure.com/openai/v1/embeddings",
		"https://api.perplexity.ai/chat/completions/": "https://api.perplexity.ai/embeddings",
	} {
		d := &provider.Endpoint{URI: base}
		d.InitRouteURIs(base)
		if d.URIs[RouteEmbeddings] != want || d.URIs[RouteResponseGet] != strings.TrimSuffix(want, "embeddings")+"responses/" {
			t.Errorf("%s: %q %q", base, d.URIs[RouteEmbeddings], d.URIs[RouteResponseGet])
		}
	}
}

func TestUnknownModeWarns(t *testing.T) {
	cfg := &config.Config{Deployments: []*config.Deployment{
		{ModelName: "e", ID: "e-0", Model: "openai/text-embedding-3-small", Provider: "openai", UpstreamModel: "text-embedding-3-small", APIBase: "http://x/v1", ModelInfo: map[string]any{"mode": "embeddings"}},
		{ModelName: "c", ID: "c-1", Model: "openai/gpt-4o", Provider: "openai", UpstreamModel: "gpt-4o", APIBase: "http://x/v1", ModelInfo: map[string]any{"mode": "Chat"}},
	}}
	reg, err := NewRegistry(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := reg.Warnings()
	if len(w) != 1 || !strings.Contains(w[0], `model_info.mode "embeddings"`) || !strings.Contains(w[0], "e-0") {
		t.Fatalf("warnings %q", w)
	}
	if reg.Lookup([]byte("c")).RouteError(RouteEmbeddings) == nil || reg.Lookup([]byte("e")).RouteError(RouteChat) != nil {
		t.Fatal("mode not applied as documented")
	}
}
