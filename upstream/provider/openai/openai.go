// Package openai is the OpenAI-compatible family: OpenAI itself and
// every server that speaks its format (Compatible), bodies and streams
// passed through with only "model" rewritten (PassThrough). Other
// providers reuse its pass-through and base-URL handling. It implements
// the upstream/provider contract and must not know the router or the
// HTTP server.
package openai

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/sse"
	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/transport"
	"github.com/valyala/fasthttp"
)

// The OpenAI-compatible servers: OpenAI itself and every provider whose
// API speaks OpenAI's format at a documented base URL. Bodies pass
// through byte for byte with only "model" rewritten, and so do streams.

// Compatible is the provider of an OpenAI-compatible server whose
// API has routes, at defaultBase ("" = api_base required), keyed by the
// environment variable keyEnv when litellm_params.api_key is absent
// ("" = no key needed).
func Compatible(routes provider.Routes, defaultBase, keyEnv string) *provider.Descriptor {
	return &provider.Descriptor{Routes: routes, OpenAICompatible: true,
		Build:   AtBaseURL(defaultBase, keyEnv, ChatURL),
		Attempt: PassThrough,
		Probe:   ModelsProbe}
}

// AtBaseURL builds a deployment of a provider addressed by one base URL
// (api_base or defaultBase) and a bearer key (api_key or keyEnv);
// endpoint joins the base and the chat endpoint's path.
func AtBaseURL(defaultBase, keyEnv string, endpoint func(base string) string) func(d *provider.Endpoint, b *provider.BuildEnv) *config.Error {
	return func(d *provider.Endpoint, b *provider.BuildEnv) *config.Error {
		cd := d.Config
		base := cd.APIBase
		if base == "" {
			base = defaultBase
		}
		if base == "" {
			return &config.Error{Path: b.Path + ".api_base", Msg: fmt.Sprintf("provider %q has no default endpoint: api_base is required", cd.Provider)}
		}
		if e := b.SetEndpoint(d, endpoint(base), b.Path+".api_base"); e != nil {
			return e
		}
		d.InitRouteURIs(base)
		key := cd.APIKey
		if key == "" && keyEnv != "" && len(cd.MissingEnv) == 0 {
			if v, ok := b.Lookup(keyEnv); ok && v != "" {
				key = v
			} else if cd.APIBase == "" {
				// The provider's own endpoint without a key cannot work.
				d.Unavailable = fmt.Sprintf("model %q is unavailable: no api_key and environment variable %s is not set", cd.ModelName, keyEnv)
				d.UnavailableStatus, d.UnavailableCode = 503, "missing_environment_variable"
				b.Warn(fmt.Sprintf("deployment %s (model_name %q) has no api_key and %s is not set; requests for it will get 503", cd.ID, cd.ModelName, keyEnv))
			}
		}
		if key != "" {
			d.Key = key
			d.Auth = []byte("Bearer " + key)
		}
		return nil
	}
}

// ChatURL joins an api_base and the chat completions path the way the
// OpenAI SDK does: base + "/chat/completions", unless the base already
// ends with it.
func ChatURL(base string) string {
	base = strings.TrimRight(base, "/")
	if strings.HasSuffix(base, "/chat/completions") {
		return base
	}
	return base + "/chat/completions"
}

// PassThrough forwards the client's body to an OpenAI-compatible
// server with only "model" rewritten.
func PassThrough(d *provider.Endpoint, req *provider.Request, model []byte, out *provider.Answer) *provider.Error {
	// A previous attempt may have left a connection.
	out.X.Release(&out.Resp)
	if e := buildRequest(d, req, model, out); e != nil {
		return e
	}
	uresp, e := provider.Call(d, req, out, func(status int, body []byte, h *fasthttp.ResponseHeader) *provider.Error {
		return provider.UpstreamError(d, status, body, provider.RetryAfterHeader(h))
	})
	if e != nil {
		return e
	}
	out.UpResp = uresp
	if req.Stream && bytes.HasPrefix(uresp.Header.ContentType(), []byte("text/event-stream")) {
		return startStream(d, req, out, uresp)
	}
	// Non-stream (or a server that answered a stream request with JSON).
	if e := out.ReadAnswer(d, uresp); e != nil {
		return e
	}
	out.Usage.ObserveBody(out.Body)
	return nil
}

// buildRequest builds the upstream request in out.Req: the endpoint's
// constant head for the route (provider.Endpoint.StartRequest) or, where
// it has none, the same head field by field; then what is the
// request's own.
func buildRequest(d *provider.Endpoint, req *provider.Request, model []byte, out *provider.Answer) *provider.Error {
	ureq := out.Request()
	if !d.StartRequest(ureq, req) {
		ureq.Header.SetMethod(req.Route.Spec().Method)
		d.SetRequestURI(ureq, req)
		if e := d.SetAuth(ureq); e != nil {
			return e
		}
		for _, h := range d.Headers {
			ureq.Header.Set(h.Name, h.Value)
		}
		if req.Route.HasBody() {
			ureq.Header.SetContentType("application/json")
		}
	}
	if len(req.RequestID) > 0 {
		provider.SetRequestID(&ureq.Header, req.RequestID)
	}
	req.SetTraceHeaders(&ureq.Header)
	if req.SendUserID(d) {
		provider.SetUserID(&ureq.Header, req.UserID)
	}
	if req.Route.HasBody() {
		quoted := d.QuotedModel
		if d.Wildcard {
			// model is the part of the requested name the '*' matched.
			quoted = AppendWildcardModel(nil, d.Config.UpstreamModel, model)
		}
		out.ReqBody = appendPatchedBody(out.ReqBody[:0], req, quoted)
		ureq.SetBodyRaw(out.ReqBody)
	}
	return nil
}

// startStream reads a streamed answer's first event and starts the
// relay. It is a function of its own so that its locals (the passStream
// literal above all) are not part of PassThrough's frame while the
// upstream call runs: that is the deepest moment of a stream's
// connection goroutine (server/stack_test.go).
//
//go:noinline
func startStream(d *provider.Endpoint, req *provider.Request, out *provider.Answer, uresp *fasthttp.Response) *provider.Error {
	x := &out.X
	if out.SC == nil {
		out.SC = sse.NewScanner(x, transport.MaxStreamEvent)
	} else {
		out.SC.Reset(x)
	}
	ev, err := out.SC.Next()
	for err == nil && ev.Comment {
		// An upstream keep-alive (": OPENROUTER PROCESSING") is not
		// an answer: a failure may still be retried. It proves the
		// upstream alive, so the wait is renewed.
		x.ReadTimeout = d.StreamTimeout
		ev, err = out.SC.Next()
	}
	if err != nil {
		return provider.FirstEventFailed(d, x, uresp, err)
	}
	// The first event came within the deadline of the headers; from
	// now on every gap gets stream_timeout.
	x.ReadTimeout = d.StreamTimeout
	s := passStreams.Get().(*passStream)
	// Set field by field on the pooled (zeroed) stream: a composite
	// literal would be built in this frame first, deepening the
	// connection goroutine's stack (server/stack_test.go).
	s.X, s.SC, s.First = x, out.SC, ev
	s.d, s.named, s.usage = d, req.Route.Spec().Named, provider.StreamUsage(req, out)
	s.hideUsage = req.UsagePatch != nil
	out.StartRelay(s, x)
	return nil
}

// AppendWildcardModel appends the upstream model for a wildcard
// deployment: upstream "openai/*" or "*" with the request's matched part.
func AppendWildcardModel(dst []byte, upstreamModel string, part []byte) []byte {
	prefix := upstreamModel[:len(upstreamModel)-1]
	buf := make([]byte, 0, len(prefix)+len(part))
	buf = append(append(buf, prefix...), part...)
	return jsonx.AppendString(dst, buf)
}
