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
	uri := strings.TrimSuffix(d.URI, "/messages") + "/models"
	if model != "" {
		uri += "/" + url.PathEscape(model)
	}
	return provider.ProbeGET(d, ureq, uri, func(r *fasthttp.Request) *provider.Error {
		if d.Key != "" {
			r.Header.Set("X-Api-Key", d.Key)
		}
		r.Header.Set("Anthropic-Version", AnthropicVersion)
		return nil
	})
}
