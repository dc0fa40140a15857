package upstream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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

// ErrClientGone is returned by Stream.Relay when writing to the client
// failed: the client went away.
var ErrClientGone = errors.New("client went away mid-stream")

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
}

// Writer is what a Stream relays to: the client connection's buffered
// writer. Flush must push buffered bytes to the client.
type Writer interface {
	Write(p []byte) (int, error)
	Flush() error
}

// Stream is an answer being streamed: OpenAI chat.completion.chunk
// events. Its first event has already arrived (until then a failure may
// be retried elsewhere).
type Stream interface {
	// Relay writes every event to w, flushing as each one arrives, and
	// ends the stream with "data: [DONE]". A failure after the first
	// event is written as an SSE error event followed by [DONE]; Relay
	// then returns the failure. ErrClientGone means w failed.
	Relay(w Writer) error
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

	req    fasthttp.Request
	resp   fasthttp.Response
	x      exchange
	pass   passStream
	mock   mockStream
	anth   anthropicStream
	native nativeStream
	sc     *sse.Scanner
	upResp *fasthttp.Response // the upstream response whose headers are relayed
	// slot is the deployment whose max_parallel_requests slot this
	// answer holds (parallel.go); nil when none.
	slot    *Deployment
	slotReg *Registry
	// reqBody is the upstream request body being sent (kept for reuse).
	reqBody []byte
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
	r.pass = passStream{}
	r.mock = mockStream{}
	r.anth.reset()
	r.native = nativeStream{}
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
	switch d.spec.wire {
	case wireBedrock:
		return reg.bedrockAttempt(d, g, req, out)
	case wireVertexAnthropic:
		return reg.vertexAnthropicAttempt(d, g, req, out)
	case wireMock:
		return mockChat(d, req, out)
	case wireAnthropic:
		return reg.anthropicAttempt(d, g, req, out)
	default:
		return reg.passThrough(d, g, req, out)
	}
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
	status := uresp.StatusCode()
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
			x.failed = true
			x.release(uresp)
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return &Error{Status: 502, Type: "api_error", Code: "upstream_empty_stream", Retryable: true,
					Message: fmt.Sprintf("upstream deployment %s closed the stream before its first event", d.ID)}
			}
			return transportError(d, err)
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
		out.pass = passStream{x: x, resp: uresp, sc: out.sc, first: ev, d: d, named: req.Route.spec().named, usage: streamUsage(req, out),
			hideUsage: req.UsagePatch != nil}
		out.Stream = &out.pass
		return nil
	}
	// Non-stream (or a server that answered a stream request with JSON).
	body, err := x.readAll(out.Body[:0], maxResponseBody)
	out.Body = body
	x.release(uresp)
	if err != nil {
		return transportError(d, err)
	}
	out.StatusCode = status
	out.ContentType = append(out.ContentType[:0], uresp.Header.ContentType()...)
	out.Usage.observeBody(body)
	return nil
}

// appendWildcardModel appends the upstream model for a wildcard
// deployment: upstream "openai/*" or "*" with the request's matched part.
func appendWildcardModel(dst []byte, upstreamModel string, part []byte) []byte {
	prefix := upstreamModel[:len(upstreamModel)-1]
	buf := make([]byte, 0, len(prefix)+len(part))
	buf = append(append(buf, prefix...), part...)
	return AppendJSONString(dst, buf)
}

// passStream relays an OpenAI-compatible upstream stream event by event,
// unchanged.
type passStream struct {
	x     *exchange
	resp  *fasthttp.Response
	sc    *sse.Scanner
	first sse.Event
	d     *Deployment
	// named streams (Responses API) end without [DONE] and report
	// errors as "event: error"; usage receives the reported usage.
	named bool
	usage *Usage
	// hideUsage keeps the usage-only chunk from a client that did not
	// ask for it (llmedge asked, for token limits).
	hideUsage bool
}

func (s *passStream) Relay(w Writer) error {
	ev := s.first
	for {
		had := s.usage != nil && s.usage.Reported
		s.usage.observeEvent(&ev)
		if !s.hidden(&ev, had) {
			if _, err := w.Write(s.d.scrubErrorEvent(&ev)); err != nil {
				return ErrClientGone
			}
		}
		if ev.IsDone() || (s.named && terminalResponseEvent(ev.Name)) {
			if err := w.Flush(); err != nil {
				return ErrClientGone
			}
			// Drain what is left (usually nothing) so the connection
			// can be reused.
			drainStream(s.x, s.sc)
			return nil
		}
		if !s.sc.Buffered() {
			if err := w.Flush(); err != nil {
				return ErrClientGone
			}
		}
		var err error
		ev, err = s.sc.Next()
		if err == io.EOF && s.named {
			return nil // flushed above; Responses streams end at EOF
		}
		if err == io.EOF {
			// The upstream ended without [DONE]: end it for the client.
			if _, err := w.Write(sse.Done); err != nil {
				return ErrClientGone
			}
			if w.Flush() != nil {
				return ErrClientGone
			}
			return nil
		}
		if err != nil {
			return s.fail(w, err)
		}
	}
}

// fail ends the client's stream with an error event after an upstream
// failure mid-stream.
func (s *passStream) fail(w Writer, err error) error {
	if errors.Is(err, ErrCanceled) {
		return ErrCanceled
	}
	s.x.failed = true
	msg, typ, code := midStreamFailure(s.d, err, "mid-event")
	var buf [512]byte
	b := s.appendError(buf[:0], msg, typ, code)
	if _, werr := w.Write(b); werr != nil {
		return ErrClientGone
	}
	if w.Flush() != nil {
		return ErrClientGone
	}
	if errors.Is(err, errTimeout) {
		return fmt.Errorf("%w: %s", err, msg)
	}
	return err
}

// AppendSSEError appends one SSE event carrying an OpenAI error object.
func AppendSSEError(dst []byte, message, typ, code string) []byte {
	dst = append(dst, "data: "...)
	dst = AppendErrorJSON(dst, message, typ, "", code)
	return append(dst, "\n\n"...)
}
