package openai

import (
	"strings"

	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/valyala/fasthttp"
)

// ModelsProbe is the health probe of an OpenAI-compatible server: GET
// {base}/models (OpenAI's "List models", served by every such server
// that lists its models) with the deployment's key and extra headers.
// It proves the base URL and the key, not the model.
func ModelsProbe(d *provider.Endpoint, ureq *fasthttp.Request, _ string) *provider.Error {
	return provider.ProbeGET(d, ureq, strings.TrimSuffix(d.URI, "/chat/completions")+"/models", d.SetAuth)
}

// CallProbe returns p without a models probe: its servers' list is
// public (it proves no key) or not documented, so health probes are a
// 1-token call.
func CallProbe(p *provider.Descriptor) *provider.Descriptor {
	p.Probe = nil
	return p
}
