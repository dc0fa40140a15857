package anthropic

import (
	"net/url"
	"strings"

	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/valyala/fasthttp"
)

// modelsProbe is the health probe of an anthropic/ deployment:
// Anthropic's "Get a Model", GET /v1/models/{model} (which takes
// aliases too), proving the base URL, the key and the model; GET
// /v1/models (the list) for a wildcard without a model to name.
func modelsProbe(d *provider.Endpoint, ureq *fasthttp.Request, model string) *provider.Error {
	ureq.Reset()
	ureq.Header.SetMethod(fasthttp.MethodGet)
	uri := strings.TrimSuffix(d.URI, "/messages") + "/models"
	if model != "" {
		uri += "/" + url.PathEscape(model)
	}
	ureq.SetRequestURI(uri)
	if d.Key != "" {
		ureq.Header.Set("X-Api-Key", d.Key)
	}
	ureq.Header.Set("Anthropic-Version", AnthropicVersion)
	for _, h := range d.Headers {
		ureq.Header.Set(h.Name, h.Value)
	}
	return nil
}
