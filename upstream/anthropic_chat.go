package upstream

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/sse"
	"github.com/valyala/fasthttp"
)

// anthropicProvider is Anthropic's Messages API: OpenAI chat requests
// are translated (anthropic_request.go, anthropic_response.go,
// anthropic_stream.go), native /v1/messages calls pass through
// (anthropic_native.go).
var anthropicProvider = provider{
	routes:            routesChatOnly,
	anthropicMessages: true,
	anthropicOptions:  true,
	build:             atBaseURL("https://api.anthropic.com", "ANTHROPIC_API_KEY", messagesURL),
	attempt:           (*Registry).anthropicAttempt,
}

// AnthropicVersion is the anthropic-version header sent when the client
// gives none.
const AnthropicVersion = "2023-06-01"

// AnthropicInbound describes a native Anthropic Messages call
// (POST /v1/messages or /v1/messages/count_tokens) whose body is passed
// through with only "model" rewritten.
type AnthropicInbound struct {
	// CountTokens selects /v1/messages/count_tokens.
	CountTokens bool
	// Version and Beta are the client's anthropic-version and
	// anthropic-beta headers (empty = not sent).
	Version, Beta []byte
}

// SpeaksAnthropic reports whether every deployment of g talks to
// Anthropic's Messages API (so native /v1/messages calls can be served).
func (g *Group) SpeaksAnthropic() bool {
	for _, d := range g.Deployments {
		if d.provider == nil || !d.provider.anthropicMessages {
			return false
		}
	}
	return len(g.Deployments) > 0
}

// upstreamModelID is the model id sent upstream for a request.
func (d *Deployment) upstreamModelID(g *Group, model []byte) string {
	if d.wildcard {
		um := d.Config.UpstreamModel
		return um[:len(um)-1] + string(g.wildcardPart(model))
	}
	return d.Config.UpstreamModel
}

// anthropicHeaders sets the request line and headers common to both
// directions.
func (d *Deployment) anthropicHeaders(ureq *fasthttp.Request, req *ChatRequest, uri string, version, beta []byte) {
	ureq.Reset()
	ureq.Header.SetMethod(fasthttp.MethodPost)
	ureq.SetRequestURI(uri)
	ureq.Header.SetContentType("application/json")
	if d.key != "" {
		ureq.Header.Set("X-Api-Key", d.key)
	}
	if len(version) > 0 {
		ureq.Header.SetBytesV("Anthropic-Version", version)
	} else {
		ureq.Header.Set("Anthropic-Version", AnthropicVersion)
	}
	for _, h := range d.headers {
		if len(beta) > 0 && strings.EqualFold(h.Name, "anthropic-beta") {
			// Both the config and the client ask for betas: send both.
			merged := make([]byte, 0, len(beta)+1+len(h.Value))
			beta = append(append(append(merged, beta...), ','), h.Value...)
			continue
		}
		ureq.Header.Set(h.Name, h.Value)
	}
	if len(beta) > 0 {
		ureq.Header.SetBytesV("Anthropic-Beta", beta)
	}
	if len(req.RequestID) > 0 {
		ureq.Header.SetBytesV("X-Request-Id", req.RequestID)
	}
	req.setTraceHeaders(&ureq.Header)
	if len(req.UserID) > 0 {
		ureq.Header.SetBytesV("X-Sm-User-Id", req.UserID)
	}
}

// anthropicAttempt serves one attempt on an anthropic/ deployment.
func (reg *Registry) anthropicAttempt(d *Deployment, g *Group, req *ChatRequest, out *Response) *Error {
	if req.Anthropic != nil {
		return reg.anthropicNative(d, g, req, out)
	}
	out.x.release(&out.resp)
	body, terr := translateRequest(d, req.Body, d.upstreamModelID(g, req.Model), req.Stream)
	if terr != nil {
		return terr
	}
	ureq := &out.req
	d.anthropicHeaders(ureq, req, d.uri, nil, nil)
	ureq.SetBodyRaw(body)
	return reg.anthropicAnswer(d, req, out)
}

// anthropicAnswer sends out.req (an Anthropic Messages request) and
// translates the answer: a stream is started (first event read), a
// message becomes an OpenAI chat.completion in out.Body.
func (reg *Registry) anthropicAnswer(d *Deployment, req *ChatRequest, out *Response) *Error {
	uresp, err := reg.anthropicSend(d, req, out)
	if err != nil {
		return err
	}
	out.upResp = uresp
	x := &out.x
	if req.Stream && bytes.HasPrefix(uresp.Header.ContentType(), []byte("text/event-stream")) {
		s := anthropicStreams.Get().(*anthropicStream)
		if err := s.start(d, x, uresp, out, req); err != nil {
			s.release()
			return err
		}
		out.startRelay(s, x)
		return nil
	}
	raw, rerr := x.readAll(out.raw[:0], maxResponseBody)
	out.raw = raw
	x.release(uresp)
	if rerr != nil {
		return transportError(d, rerr)
	}
	b, jerr := translateResponse(out.Body[:0], raw)
	if jerr != nil {
		return &Error{Status: 502, Type: "api_error", Code: "upstream_bad_response", Retryable: true,
			Message: fmt.Sprintf("upstream deployment %s sent an answer that is not an Anthropic message", d.ID),
			Detail:  failureDetail(d, jerr)}
	}
	out.Body = b
	out.Usage.observeBody(b)
	out.StatusCode = 200
	out.ContentType = append(out.ContentType[:0], "application/json"...)
	return nil
}

// anthropicSend runs the exchange for out.req and returns the response
// once its headers are in, or the mapped error for a non-2xx answer.
func (reg *Registry) anthropicSend(d *Deployment, req *ChatRequest, out *Response) (*fasthttp.Response, *Error) {
	return reg.call(d, req, out, func(status int, body []byte, h *fasthttp.ResponseHeader) *Error {
		return anthropicError(d, status, body, retryAfterHeader(h), req.Anthropic != nil)
	})
}

// firstEvent reads the stream's first meaningful event (pings skipped)
// so that a failure before it can still be retried elsewhere.
func firstEvent(d *Deployment, x *exchange, uresp *fasthttp.Response, out *Response) (sse.Event, *Error) {
	x.readTimeout = d.streamTimeout
	if out.sc == nil {
		// The scanner stays with the pooled Response, cap included, and
		// may serve any route next: always the same cap.
		out.sc = sse.NewScanner(x, maxStreamEvent)
	} else {
		out.sc.Reset(x)
	}
	for {
		ev, err := out.sc.Next()
		if err != nil {
			return ev, firstEventFailed(d, x, uresp, err)
		}
		name := eventType(ev)
		if ev.Comment || string(name) == "ping" {
			continue
		}
		if string(name) == "error" {
			x.failed = true
			x.release(uresp)
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
