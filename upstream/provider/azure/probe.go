package azure

import (
	"strings"

	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/valyala/fasthttp"
)

// modelsProbe is the health probe of an azure/ deployment: Azure
// OpenAI's "Models - List", GET {api_base}/openai/models?api-version=…
// ({api_base}/openai/v1/models on the v1 API), with the deployment's
// api-key or AD token. It proves the resource and the credential; the
// data-plane API has no call that describes one deployment.
func modelsProbe(d *provider.Endpoint, ureq *fasthttp.Request, _ string) *provider.Error {
	uri, query, _ := strings.Cut(d.URI, "?")
	base, rest, _ := strings.Cut(uri, "/openai/")
	models := base + "/openai/models"
	if strings.HasPrefix(rest, "v1/") {
		models = base + "/openai/v1/models"
	}
	if query != "" {
		models += "?" + query
	}
	return provider.ProbeGET(d, ureq, models, d.SetAuth)
}
