package upstream

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/sse"
	"github.com/valyala/fasthttp"
)

// The OpenAI-compatible servers: OpenAI itself and every provider whose
// API speaks OpenAI's format at a documented base URL. Bodies pass
// through byte for byte with only "model" rewritten, and so do streams.

// openAICompatible is the provider of an OpenAI-compatible server whose
// API has routes, at defaultBase ("" = api_base required), keyed by the
// environment variable keyEnv when litellm_params.api_key is absent
// ("" = no key needed).
func openAICompatible(routes routeSet, defaultBase, keyEnv string) *provider {
	return &provider{routes: routes, openAICompatible: true,
		build:   atBaseURL(defaultBase, keyEnv, chatURL),
		attempt: (*Registry).passThrough}
}

// atBaseURL builds a deployment of a provider addressed by one base URL
// (api_base or defaultBase) and a bearer key (api_key or keyEnv);
// endpoint joins the base and the chat endpoint's path.
func atBaseURL(defaultBase, keyEnv string, endpoint func(base string) string) func(r *Registry, d *Deployment, b *buildEnv) *config.Error {
	return func(r *Registry, d *Deployment, b *buildEnv) *config.Error {
		cd := d.Config
		base := cd.APIBase
		if base == "" {
			base = defaultBase
		}
		if base == "" {
			return &config.Error{Path: b.path + ".api_base", Msg: fmt.Sprintf("provider %q has no default endpoint: api_base is required", cd.Provider)}
		}
		if e := r.setEndpoint(d, endpoint(base), b.path+".api_base"); e != nil {
			return e
		}
		d.initRouteURIs(base)
		key := cd.APIKey
		if key == "" && keyEnv != "" && len(cd.MissingEnv) == 0 {
			if v, ok := b.lookup(keyEnv); ok && v != "" {
				key = v
			} else if cd.APIBase == "" {
				// The provider's own endpoint without a key cannot work.
				d.unavailable = fmt.Sprintf("model %q is unavailable: no api_key and environment variable %s is not set", cd.ModelName, keyEnv)
				d.unavailableStatus, d.unavailableCode = 503, "missing_environment_variable"
				r.warnings = append(r.warnings, fmt.Sprintf("deployment %s (model_name %q) has no api_key and %s is not set; requests for it will get 503", cd.ID, cd.ModelName, keyEnv))
			}
		}
		if key != "" {
			d.key = key
			d.auth = []byte("Bearer " + key)
		}
		return nil
	}
}

// chatURL joins an api_base and the chat completions path the way the
// OpenAI SDK does: base + "/chat/completions", unless the base already
// ends with it.
func chatURL(base string) string {
	base = strings.TrimRight(base, "/")
	if strings.HasSuffix(base, "/chat/completions") {
		return base
	}
	return base + "/chat/completions"
}

// passThrough forwards the client's body to an OpenAI-compatible
// server with only "model" rewritten.
func (reg *Registry) passThrough(d *Deployment, g *Group, req *ChatRequest, out *Response) *Error {
	// A previous attempt may have left a connection.
	out.x.release(&out.resp)
	ureq := &out.req
	ureq.Reset()
	ureq.Header.SetMethod(req.Route.spec().method)
	d.setRequestURI(ureq, req)
	if e := d.setAuth(ureq); e != nil {
		return e
	}
	for _, h := range d.headers {
		ureq.Header.Set(h.Name, h.Value)
	}
	if len(req.RequestID) > 0 {
		ureq.Header.SetBytesV("X-Request-Id", req.RequestID)
	}
	req.setTraceHeaders(&ureq.Header)
	if len(req.UserID) > 0 {
		ureq.Header.SetBytesV("X-Sm-User-Id", req.UserID)
	}
	if req.Route.HasBody() {
		ureq.Header.SetContentType("application/json")
		model := d.quotedModel
		if d.wildcard {
			model = appendWildcardModel(nil, d.Config.UpstreamModel, g.wildcardPart(req.Model))
		}
		out.reqBody = appendPatchedBody(out.reqBody[:0], req, model)
		ureq.SetBodyRaw(out.reqBody)
	}

	uresp, e := reg.call(d, req, out, func(status int, body []byte, h *fasthttp.ResponseHeader) *Error {
		return upstreamError(d, status, body, retryAfterHeader(h))
	})
	if e != nil {
		return e
	}
	x := &out.x
	out.upResp = uresp
	if req.Stream && bytes.HasPrefix(uresp.Header.ContentType(), []byte("text/event-stream")) {
		if out.sc == nil {
			out.sc = sse.NewScanner(x, maxStreamEvent)
		} else {
			out.sc.Reset(x)
		}
		ev, err := out.sc.Next()
		for err == nil && ev.Comment {
			// An upstream keep-alive (": OPENROUTER PROCESSING") is not
			// an answer: a failure may still be retried. It proves the
			// upstream alive, so the wait is renewed.
			x.readTimeout = d.streamTimeout
			ev, err = out.sc.Next()
		}
		if err != nil {
			return firstEventFailed(d, x, uresp, err)
		}
		// The first event came within the deadline of the headers; from
		// now on every gap gets stream_timeout.
		x.readTimeout = d.streamTimeout
		// Nothing is retried after the first event: free the request
		// body now rather than holding a long prompt for the stream's life.
		ureq.ResetBody()
		if cap(out.reqBody) > 64<<10 {
			out.reqBody = nil
		}
		s := passStreams.Get().(*passStream)
		*s = passStream{sseEvents: sseEvents{x: x, sc: out.sc, first: ev}, d: d, named: req.Route.spec().named, usage: streamUsage(req, out),
			hideUsage: req.UsagePatch != nil}
		out.startRelay(s, x)
		return nil
	}
	// Non-stream (or a server that answered a stream request with JSON).
	if e := out.readAnswer(d, uresp); e != nil {
		return e
	}
	out.Usage.observeBody(out.Body)
	return nil
}

// appendWildcardModel appends the upstream model for a wildcard
// deployment: upstream "openai/*" or "*" with the request's matched part.
func appendWildcardModel(dst []byte, upstreamModel string, part []byte) []byte {
	prefix := upstreamModel[:len(upstreamModel)-1]
	buf := make([]byte, 0, len(prefix)+len(part))
	buf = append(append(buf, prefix...), part...)
	return jsonx.AppendString(dst, buf)
}
