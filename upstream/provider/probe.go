package provider

import (
	"github.com/llmedge/llmedge/upstream/transport"
	"github.com/valyala/fasthttp"
)

// Probe fills ureq with a provider's cheapest authenticated request that
// proves a deployment's address and credentials work, for health
// probes: a GET of its models list, or of the one model where the API
// describes a single model. model is the upstream model id to name ("":
// none, e.g. a wildcard deployment). A provider without such a request
// (or whose list is public, proving no credential) has no Probe and is
// probed with a 1-token call.
type Probe func(d *Endpoint, ureq *fasthttp.Request, model string) *Error

// ProbeGET fills ureq with a GET of uri carrying the deployment's
// credentials (auth: d.SetAuth, or the provider's own header) and its
// extra_headers, for a Probe.
func ProbeGET(d *Endpoint, ureq *fasthttp.Request, uri string, auth func(*fasthttp.Request) *Error) *Error {
	ureq.Reset()
	ureq.Header.SetMethod(fasthttp.MethodGet)
	ureq.SetRequestURI(uri)
	if e := auth(ureq); e != nil {
		return e
	}
	for _, h := range d.Headers {
		ureq.Header.Set(h.Name, h.Value)
	}
	return nil
}

// SendProbe sends out.Req, filled by a Probe, and reads its answer to
// the end: nil when the upstream answered 2xx.
func SendProbe(d *Endpoint, req *Request, out *Answer) *Error {
	out.X.Release(&out.Resp)
	uresp, e := Call(d, req, out, func(status int, body []byte, h *fasthttp.ResponseHeader) *Error {
		return UpstreamError(d, status, body, RetryAfterHeader(h))
	})
	if e != nil {
		return e
	}
	raw, err := out.X.ReadAll(out.Raw[:0], transport.MaxResponseBody)
	out.Raw = raw[:0]
	out.X.Release(uresp)
	if err != nil {
		return TransportError(d, err)
	}
	return nil
}
