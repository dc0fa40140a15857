package provider

import (
	"bytes"

	"github.com/llmedge/llmedge/sse"
	"github.com/llmedge/llmedge/upstream/transport"
	"github.com/valyala/fasthttp"
)

// Answer is where an attempt leaves its result: a complete answer
// (StatusCode, ContentType, Body) or a started Stream, with the usage it
// reported. It also holds what the attempts of one call reuse: the
// upstream request and response, the exchange, the SSE scanner and
// buffers. upstream.Response embeds it.
type Answer struct {
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
	// Observed holds timings for metrics.
	transport.Observed

	// SlowUpstream is set by the router for each attempt: the
	// deployment's answers are slow to come (or not yet timed), so the
	// exchange waits for the first byte without a read buffer.
	SlowUpstream bool
	// RepeatLimit is set by the router for each attempt: the stream
	// ends after this many identical text chunks in a row (repeat.go;
	// 0 = unguarded).
	RepeatLimit int

	// Req and Resp are the upstream request and response of the
	// attempt; X is its exchange; SC the scanner of an upstream SSE
	// stream, kept with its buffer; UpResp the upstream response whose
	// headers are relayed to the client. Req is taken from fasthttp's
	// pool by Request and kept for the next call, except by a started
	// stream, which gives it back (letRequestGo): an open stream does
	// not hold a request it will not send again.
	Req    *fasthttp.Request
	Resp   fasthttp.Response
	X      transport.Exchange
	SC     *sse.Scanner
	UpResp *fasthttp.Response
	// ReqBody is the upstream request body being sent, Raw an upstream
	// answer read before translation (both kept for reuse).
	ReqBody, Raw []byte
	// relay is the Stream of a streamed answer (relay.go).
	relay relay
}

// MaxKeptRequestBody is the largest request-body buffer a streaming
// answer keeps (for its next call) while its stream lasts. A stream
// holds its answer for seconds to minutes, and a coding agent's prompt
// runs to hundreds of KiB: a larger buffer is let go when the stream
// starts, so that an open stream holds no copy of its prompt.
const MaxKeptRequestBody = 16 << 10

// Request is the attempt's upstream request, taken from fasthttp's
// pool on first use.
func (a *Answer) Request() *fasthttp.Request {
	if a.Req == nil {
		a.Req = fasthttp.AcquireRequest()
	}
	return a.Req
}

// letRequestGo gives the upstream request back, with its body, once the
// answer is a started stream: nothing is sent again after a stream's
// first event.
func (a *Answer) letRequestGo() {
	if a.Req != nil {
		fasthttp.ReleaseRequest(a.Req)
		a.Req = nil
	}
	if cap(a.ReqBody) > MaxKeptRequestBody {
		a.ReqBody = nil
	}
}

// Reset closes the answer's stream and connection, if any, and empties
// it for the next call, keeping its buffers.
func (a *Answer) Reset() {
	a.X.Release(&a.Resp)
	a.Resp.Reset()
	if a.Req != nil {
		a.Req.Reset()
	}
	a.StatusCode = 0
	a.ContentType = a.ContentType[:0]
	a.Body = a.Body[:0]
	a.Stream = nil
	a.Usage = Usage{}
	a.relay.reset()
	if cap(a.Raw) > 64<<10 {
		a.Raw = nil
	}
	if cap(a.ReqBody) > 64<<10 {
		a.ReqBody = nil
	}
	a.UpResp = nil
	a.Observed = transport.Observed{}
	a.SlowUpstream = false
	a.RepeatLimit = 0
}

// UsageFromBody reads Usage from a non-stream answer's Body when its
// wire format did not (mock, Anthropic): metrics and access logs count
// the tokens of every answer. A no-op once Usage is known.
func (a *Answer) UsageFromBody() {
	if !a.Usage.Reported && a.Stream == nil {
		a.Usage.ObserveBody(a.Body)
	}
}

// relayedHeader reports whether an upstream response header is passed
// to the client: rate limits, retry hints and OpenAI's timing and API
// version. Nothing that names the provider account (openai-organization,
// openai-project, Anthropic's anthropic-organization-id), no cookies,
// no hop-by-hop or content headers. A list of names rather than a
// prefix: a header a provider adds later stays with llmedge.
//
// The first byte picks the names to compare (only 'X'/'x' fold to 'x',
// and so on: no other byte, no other rune), so each header costs one
// or two case-folding compares rather than five.
func relayedHeader(k []byte) bool {
	if len(k) == 0 {
		return false
	}
	switch k[0] | 0x20 {
	case 'x':
		return len(k) > 12 && bytes.EqualFold(k[:12], []byte("x-ratelimit-"))
	case 'o':
		return bytes.EqualFold(k, []byte("openai-processing-ms")) || bytes.EqualFold(k, []byte("openai-version"))
	case 'r':
		return bytes.EqualFold(k, []byte("retry-after")) || bytes.EqualFold(k, []byte("retry-after-ms"))
	}
	return false
}

// VisitHeaders calls f for every upstream response header relayed to
// the client (relayedHeader).
func (r *Answer) VisitHeaders(f func(k, v []byte)) {
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
func (r *Answer) VisitAnthropicHeaders(f func(k, v []byte)) {
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
