package upstream

import (
	"bytes"
	"sync"

	"github.com/llmedge/llmedge/upstream/provider"
)

// Response is the result of Chat. Acquire with AcquireResponse, give
// back with ReleaseResponse (which also closes a stream).
type Response struct {
	// Deployment answered (the last one tried on failure).
	Deployment *Deployment
	// Attempts counts upstream attempts made.
	Attempts int
	// Answer is what the answering attempt left: StatusCode,
	// ContentType, Body or Stream, Usage, and the timings (Observed).
	provider.Answer

	// slot is the deployment whose max_parallel_requests slot this
	// answer holds (parallel.go); nil when none.
	slot    *Deployment
	slotReg *Registry
}

var responsePool = sync.Pool{New: func() any { return new(Response) }}

// AcquireResponse returns an empty Response from a pool.
func AcquireResponse() *Response { return responsePool.Get().(*Response) }

// ReleaseResponse closes r's stream (if any) and returns r to the pool.
func ReleaseResponse(r *Response) {
	r.Answer.Reset()
	r.freeSlot()
	r.Deployment = nil
	r.Attempts = 0
	responsePool.Put(r)
}

// relayedHeader reports whether an upstream response header is passed
// to the client: rate limits, retry hints and OpenAI's timing and API
// version. Nothing that names the provider account (openai-organization,
// openai-project, Anthropic's anthropic-organization-id), no cookies,
// no hop-by-hop or content headers. A list of names rather than a
// prefix: a header a provider adds later stays with llmedge.
func relayedHeader(k []byte) bool {
	switch {
	case len(k) > 12 && bytes.EqualFold(k[:12], []byte("x-ratelimit-")):
		return true
	case bytes.EqualFold(k, []byte("openai-processing-ms")), bytes.EqualFold(k, []byte("openai-version")):
		return true
	case bytes.EqualFold(k, []byte("retry-after")), bytes.EqualFold(k, []byte("retry-after-ms")):
		return true
	}
	return false
}

// VisitHeaders calls f for every upstream response header relayed to
// the client (relayedHeader).
func (r *Response) VisitHeaders(f func(k, v []byte)) {
	if r.UpResp == nil {
		return
	}
	for k, v := range r.UpResp.Header.All() {
		if relayedHeader(k) {
			f(k, v)
		}
	}
}

// VisitAnthropicHeaders calls f for the upstream headers relayed on the
// native Anthropic route: anthropic-ratelimit-*, request-id, retry-after.
func (r *Response) VisitAnthropicHeaders(f func(k, v []byte)) {
	if r.UpResp == nil {
		return
	}
	for k, v := range r.UpResp.Header.All() {
		if (len(k) > 20 && bytes.EqualFold(k[:20], []byte("anthropic-ratelimit-"))) ||
			bytes.EqualFold(k, []byte("request-id")) || bytes.EqualFold(k, []byte("retry-after")) {
			f(k, v)
		}
	}
}

// Chat sends req to a deployment of g: the router picks one, retries,
// cools failing deployments down and falls back to other groups
// (router.go). On success out holds the answer; on failure the error is
// an *Error.
func (reg *Registry) Chat(g *Group, req *ChatRequest, out *Response) error {
	if err := reg.route(g, req, out); err != nil {
		return err
	}
	return nil
}

func (reg *Registry) attempt(d *Deployment, g *Group, req *ChatRequest, out *Response) *Error {
	if err := d.routeError(req.Route); err != nil {
		err.Retryable = true // another deployment of the group may serve it
		return err
	}
	if d.desc == nil {
		return &Error{Status: d.UnavailableStatus, Type: provider.ErrorType(d.UnavailableStatus), Code: d.UnavailableCode, Message: d.Unavailable}
	}
	model := req.Model
	if d.Wildcard {
		model = g.wildcardPart(req.Model)
	}
	out.SlowUpstream = d.slowAnswers()
	return d.desc.Attempt(&d.Endpoint, req, model, &out.Answer)
}
