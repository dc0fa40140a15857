package upstream

import (
	"bytes"
	"sync"

	"github.com/llmedge/llmedge/sse"
	"github.com/valyala/fasthttp"
)

// maxErrorBody caps how much of an upstream error body is read;
// maxResponseBody caps a non-stream answer.
const (
	maxErrorBody    = 1 << 20
	maxResponseBody = 64 << 20
)

// ChatRequest is one OpenAI chat completion as received from a client.
// Body must stay valid and unchanged until the Response is released.
type ChatRequest struct {
	// Body is the client's JSON body.
	Body []byte
	// ModelStart and ModelEnd delimit the "model" string literal (with
	// its quotes) in Body; it is replaced by the upstream model id.
	ModelStart, ModelEnd int
	// Model is the requested model name (unescaped).
	Model []byte
	// Stream is the body's "stream" flag.
	Stream bool
	// IncludeUsage is the body's stream_options.include_usage.
	IncludeUsage bool
	// RequestID is sent upstream as x-request-id.
	RequestID []byte
	// UserID, when set, is sent upstream as x-sm-user-id.
	UserID []byte
	// Cancel stops every attempt of the call; required.
	Cancel *Cancel
	// Anthropic, when set, is a native Anthropic Messages call
	// (POST /v1/messages) passed through instead of translated.
	Anthropic *AnthropicInbound
	// Route is the endpoint called (zero: chat). By-id routes (GET and
	// DELETE of a stored response) have no Body and name ResponseID.
	Route      Route
	ResponseID []byte
	// Query, when set, is the raw query string passed upstream.
	Query []byte
	// WantUsage asks for the answer's token usage in Response.Usage
	// even for a stream whose client did not ask (tokens-per-minute
	// limits).
	WantUsage bool
	// UsagePatch, when set, is spliced into Body at UsagePatchAt in
	// place of UsagePatchDel bytes to turn on
	// stream_options.include_usage; the usage-only chunk this adds is
	// then kept from the client.
	UsagePatch                  []byte
	UsagePatchAt, UsagePatchDel int
	// Tracer, when set, traces each attempt (trace.go); traceparent and
	// tracestate are the current attempt's, sent upstream.
	Tracer                  AttemptTracer
	traceparent, tracestate string
}

// Response is the result of Chat. Acquire with AcquireResponse, give
// back with ReleaseResponse (which also closes a stream).
type Response struct {
	// Deployment answered (the last one tried on failure).
	Deployment *Deployment
	// Attempts counts upstream attempts made.
	Attempts int
	// StatusCode and ContentType of a non-stream answer.
	StatusCode  int
	ContentType []byte
	// Body of a non-stream answer.
	Body []byte
	// Stream is set when the answer is a stream.
	Stream Stream
	// Usage is what the answer reported: known after a non-stream
	// answer, or once Stream.Relay returned.
	Usage Usage
	// Observed holds timings and usage for metrics (observe.go).
	Observed

	req  fasthttp.Request
	resp fasthttp.Response
	x    exchange
	// relay is the Stream of a streamed answer (relay.go); sc the
	// scanner of an upstream SSE stream, kept with its buffer.
	relay  relay
	sc     *sse.Scanner
	upResp *fasthttp.Response // the upstream response whose headers are relayed
	// slot is the deployment whose max_parallel_requests slot this
	// answer holds (parallel.go); nil when none.
	slot    *Deployment
	slotReg *Registry
	// reqBody is the upstream request body being sent, raw an upstream
	// answer read before translation (both kept for reuse).
	reqBody, raw []byte
}

var responsePool = sync.Pool{New: func() any { return new(Response) }}

// AcquireResponse returns an empty Response from a pool.
func AcquireResponse() *Response { return responsePool.Get().(*Response) }

// ReleaseResponse closes r's stream (if any) and returns r to the pool.
func ReleaseResponse(r *Response) {
	r.x.release(&r.resp)
	r.freeSlot()
	r.resp.Reset()
	r.req.Reset()
	r.Deployment = nil
	r.Attempts = 0
	r.StatusCode = 0
	r.ContentType = r.ContentType[:0]
	r.Body = r.Body[:0]
	r.Stream = nil
	r.Usage = Usage{}
	r.relay.reset()
	if cap(r.raw) > 64<<10 {
		r.raw = nil
	}
	r.upResp = nil
	r.Observed = Observed{}
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
	if r.upResp == nil {
		return
	}
	for k, v := range r.upResp.Header.All() {
		if relayedHeader(k) {
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
	if d.provider == nil {
		return &Error{Status: d.unavailableStatus, Type: errorType(d.unavailableStatus), Code: d.unavailableCode, Message: d.unavailable}
	}
	return d.provider.attempt(reg, d, g, req, out)
}
