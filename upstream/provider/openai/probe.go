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
	ureq.Reset()
	ureq.Header.SetMethod(fasthttp.MethodGet)
	ureq.SetRequestURI(strings.TrimSuffix(d.URI, "/chat/completions") + "/models")
	if e := d.SetAuth(ureq); e != nil {
		return e
	}
	for _, h := range d.Headers {
		ureq.Header.Set(h.Name, h.Value)
	}
	return nil
}

// CallProbe returns p without a models probe: its servers' list is
// public (it proves no key) or not documented, so health probes are a
// 1-token call.
func CallProbe(p *provider.Descriptor) *provider.Descriptor {
	p.Probe = nil
	return p
}
