// Package anthropic is Anthropic's Messages API: OpenAI chat requests
// translated to it and back (request.go, response.go, stream.go), native
// /v1/messages calls passed through (native.go), Anthropic's errors
// mapped (errors.go). It exports the translation (TranslateRequest,
// SetHeaders, Answer), the native relay (RelayNative) and the rewriting
// of native bodies and beta lists (NativeBody, Betas) for other hosts
// of the same API (vertex, bedrock).
// It implements the upstream/provider contract and must not know the
// router or the HTTP server.
package anthropic

import (
	"bytes"
	"fmt"
	"github.com/llmedge/llmedge/upstream/provider/openai"
	"strings"

	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/sse"
	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/transport"
	"github.com/valyala/fasthttp"
)

// Provider is Anthropic's Messages API: OpenAI chat requests
// are translated (request.go, response.go, stream.go),
// native /v1/messages calls pass through (native.go).
var Provider = provider.Descriptor{
	Routes:            provider.RoutesChatOnly,
	AnthropicMessages: true,
	AnthropicOptions:  true,
	Build:             openai.AtBaseURL("https://api.anthropic.com", "ANTHROPIC_API_KEY", MessagesURL),
	Attempt:           anthropicAttempt,
	Probe:             modelsProbe,
}

// AnthropicVersion is the anthropic-version header sent when the client
// gives none.
const AnthropicVersion = "2023-06-01"

// Canonical names of the headers SetHeaders sets (SetCanonical: no
// normalizing pass per request).
var (
	hdrXAPIKey     = []byte("X-Api-Key")
	hdrVersion     = []byte("Anthropic-Version")
	hdrBeta        = []byte("Anthropic-Beta")
	defaultVersion = []byte(AnthropicVersion)
)

// upstreamModelID is the model id sent upstream for a request.
// model is what the deployment's wildcard sees of the requested model.
func upstreamModelID(d *provider.Endpoint, model []byte) string {
	if d.Wildcard {
		um := d.Config.UpstreamModel
		return um[:len(um)-1] + string(model)
	}
	return d.Config.UpstreamModel
}

// SetHeaders sets the request line and headers common to both
// directions.
func SetHeaders(d *provider.Endpoint, ureq *fasthttp.Request, req *provider.Request, uri string, version, beta []byte) {
	ureq.Reset()
	ureq.Header.SetMethod(fasthttp.MethodPost)
	ureq.SetRequestURI(uri)
	ureq.Header.SetContentType("application/json")
	if d.Key != "" {
		provider.SetCanonicalString(&ureq.Header, hdrXAPIKey, d.Key)
	}
	if len(version) > 0 {
		ureq.Header.SetCanonical(hdrVersion, version)
	} else {
		ureq.Header.SetCanonical(hdrVersion, defaultVersion)
	}
	for _, h := range d.Headers {
		if len(beta) > 0 && strings.EqualFold(h.Name, "anthropic-beta") {
			// Both the config and the client ask for betas: send both.
			merged := make([]byte, 0, len(beta)+1+len(h.Value))
			beta = append(append(append(merged, beta...), ','), h.Value...)
			continue
		}
		ureq.Header.Set(h.Name, h.Value)
	}
	if len(beta) > 0 {
		ureq.Header.SetCanonical(hdrBeta, beta)
	}
	if len(req.RequestID) > 0 {
		provider.SetRequestID(&ureq.Header, req.RequestID)
	}
	req.SetTraceHeaders(&ureq.Header)
	if req.SendUserID(d) {
		provider.SetUserID(&ureq.Header, req.UserID)
	}
}

// anthropicAttempt serves one attempt on an anthropic/ deployment.
func anthropicAttempt(d *provider.Endpoint, req *provider.Request, model []byte, out *provider.Answer) *provider.Error {
	if req.Anthropic != nil {
		return anthropicNative(d, req, model, out)
	}
	out.X.Release(&out.Resp)
	body, terr := TranslateRequest(d, req.Body, upstreamModelID(d, model), req.Stream)
	if terr != nil {
		return terr
	}
	ureq := out.Request()
	SetHeaders(d, ureq, req, d.URI, nil, req.AnthropicBeta)
	ureq.SetBodyRaw(body)
	return Answer(d, req, out)
}

// Answer sends out.Req (an Anthropic Messages request) and
// translates the answer: a stream is started (first event read), a
// message becomes an OpenAI chat.completion in out.Body.
func Answer(d *provider.Endpoint, req *provider.Request, out *provider.Answer) *provider.Error {
	uresp, err := anthropicSend(d, req, out)
	if err != nil {
		return err
	}
	out.UpResp = uresp
	x := &out.X
	if req.Stream && bytes.HasPrefix(uresp.Header.ContentType(), []byte("text/event-stream")) {
		s := anthropicStreams.Get().(*anthropicStream)
		if err := s.start(d, x, uresp, out, req); err != nil {
			s.Release()
			return err
		}
		out.StartRelay(s, x)
		return nil
	}
	raw, rerr := x.ReadAll(out.Raw[:0], transport.MaxResponseBody)
	out.Raw = raw
	x.Release(uresp)
	if rerr != nil {
		return provider.TransportError(d, rerr)
	}
	b, jerr := translateResponse(out.Body[:0], raw)
	if jerr != nil {
		return &provider.Error{Status: 502, Type: "api_error", Code: "upstream_bad_response", Retryable: true,
			Message: fmt.Sprintf("upstream deployment %s sent an answer that is not an Anthropic message", d.ID),
			Detail:  provider.FailureDetail(d, jerr)}
	}
	out.Body = b
	out.Usage.ObserveBody(b)
	out.StatusCode = 200
	out.ContentType = append(out.ContentType[:0], "application/json"...)
	return nil
}

// anthropicSend runs the exchange for out.Req and returns the response
// once its headers are in, or the mapped error for a non-2xx answer.
func anthropicSend(d *provider.Endpoint, req *provider.Request, out *provider.Answer) (*fasthttp.Response, *provider.Error) {
	return provider.Call(d, req, out, func(status int, body []byte, h *fasthttp.ResponseHeader) *provider.Error {
		return anthropicError(d, status, body, provider.RetryAfterHeader(h), req.Anthropic != nil)
	})
}

// firstEvent reads the stream's first meaningful event (pings skipped)
// so that a failure before it can still be retried elsewhere.
func firstEvent(d *provider.Endpoint, x *transport.Exchange, uresp *fasthttp.Response, out *provider.Answer) (sse.Event, *provider.Error) {
	x.ReadTimeout = d.StreamTimeout
	if out.SC == nil {
		// The scanner stays with the pooled Response, cap included, and
		// may serve any route next: always the same cap.
		out.SC = sse.NewScanner(x, transport.MaxStreamEvent)
	} else {
		out.SC.Reset(x)
	}
	for {
		ev, err := out.SC.Next()
		if err != nil {
			return ev, provider.FirstEventFailed(d, x, uresp, err)
		}
		name := eventType(ev)
		if ev.Comment || string(name) == "ping" {
			continue
		}
		if string(name) == "error" {
			x.MarkFailed()
			x.Release(uresp)
			return ev, anthropicEventError(d, ev.Data)
		}
		return ev, nil
	}
}

// eventType is the event's name, or the "type" of its data when the
// event: line is missing.
func eventType(ev sse.Event) []byte {
	if len(ev.Name) > 0 {
		return ev.Name
	}
	return jsonx.Str(ev.Data, "type")
}

// MessagesURL joins an api_base and Anthropic's messages path. Bases are
// written both without a version (https://api.anthropic.com, supermemory's
// https://api.supermemory.ai/v3/api.anthropic.com) and, by LiteLLM users,
// with a trailing /v1; both give .../v1/messages.
func MessagesURL(base string) string {
	base = strings.TrimRight(base, "/")
	switch {
	case strings.HasSuffix(base, "/v1/messages"):
		return base
	case strings.HasSuffix(base, "/v1"):
		return base + "/messages"
	}
	return base + "/v1/messages"
}
