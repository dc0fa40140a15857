package observe

import (
	"strconv"
	"time"

	"github.com/llmedge/llmedge/upstream"
	"github.com/llmedge/llmedge/upstream/pricing"
	"github.com/valyala/fasthttp"
)

// Call is the observation of one call, part of the server's pooled
// per-request state: Begin when it is admitted, Answered when the
// router returns, Answering when its answer's headers go out, and the
// Recorder's Finish once the answer is written. The zero Call is ready
// for Begin.
type Call struct {
	series *Series
	group  *upstream.Group
	// key labels usage metrics and the access log: a key's name from
	// the config, never the key.
	key   string
	start time.Time
	// ttfb: until llmedge held the first byte of the answer (the
	// upstream's response headers; a stream's first event).
	ttfb time.Duration
	// stream: the client asked for a stream (the metrics' stream label,
	// whatever the answer turned out to be); sse: the answer went out
	// as SSE (counted in llmedge_streams_open until it ends).
	stream, sse bool
	status      int
	// answering: a complete answer was handed to fasthttp, its headers
	// are out of reach.
	answering bool
	// cost is what the answer cost in USD (Finish sets it; 0 when
	// unpriced or nothing was used).
	cost float64
	// trace is the call's spans when tracing is on (trace.go).
	trace callTrace
	// cache is what the response cache did (x-llmedge-cache), "" when
	// it is off.
	cache string
}

// SetCache records what the response cache did for the call: hit, miss
// or bypass (the access log's cache field).
func (c *Call) SetCache(v string) { c.cache = v }

// Begin starts observing a call routed to g, made with the key named
// key; stream is whether the client asked for a stream.
func (c *Call) Begin(ctx *fasthttp.RequestCtx, series *Series, g *upstream.Group, key string, stream bool) {
	*c = Call{series: series, group: g, key: key, stream: stream, start: requestStart(ctx)}
}

// Streaming reports whether the answer goes out as SSE.
func (c *Call) Streaming() bool { return c.sse }

// Cost is what the finished call cost in USD (0 before Finish).
func (c *Call) Cost() float64 { return c.cost }

// Start is when the call's request was read.
func (c *Call) Start() time.Time { return c.start }

// Group is the model group the call was routed to.
func (c *Call) Group() *upstream.Group { return c.group }

// requestStart is when the request was read (fasthttp records it).
func requestStart(ctx *fasthttp.RequestCtx) time.Time {
	if t := ctx.Time(); !t.IsZero() {
		return t
	}
	return time.Now()
}

// Answered records the router's return: the time to the first byte.
func (c *Call) Answered(resp *upstream.Response) {
	if resp.Attempts == 0 {
		return // nothing was asked of any upstream: no first byte
	}
	now := time.Now()
	if resp.Stream == nil && !resp.HeadersAt.IsZero() {
		now = resp.HeadersAt
	}
	c.ttfb = now.Sub(c.start)
}

// Answering records that the answer's headers are about to go out and
// sets its timing headers with what is known then: for a complete
// answer the time so far, for a stream the time to its first event.
// resp is nil for a stream committed before the router ran (keepalive
// pings): only the time so far is known.
func (r *Recorder) Answering(ctx *fasthttp.RequestCtx, c *Call, resp *upstream.Response) {
	switch {
	case resp == nil:
		c.sse, c.status = true, fasthttp.StatusOK
		r.streams.Add(1)
		d := time.Since(c.start)
		setTimingHeaders(ctx, d, d)
	case resp.Stream != nil:
		c.sse, c.status = true, fasthttp.StatusOK
		r.streams.Add(1)
		// Read before the relay starts adding to UpstreamWait.
		setTimingHeaders(ctx, c.ttfb, overheadOf(c.ttfb, resp.UpstreamWait+resp.BackoffWait, 0))
	default:
		c.status, c.answering = resp.StatusCode, true
		dur := time.Since(c.start)
		setTimingHeaders(ctx, dur, overheadOf(dur, resp.UpstreamWait+resp.BackoffWait, 0))
		if c.status < 300 {
			resp.UsageFromBody()
			setCostHeader(ctx, callCost(resp, dur))
		}
	}
}

// Outcome is what the server learned writing a call's answer.
type Outcome struct {
	ReqID, UserID []byte
	// ClientWait is the time spent blocked writing to the client.
	ClientWait time.Duration
	// Err is how a stream (or a complete answer's writing) ended badly.
	Err error
}

// Finish records a finished call: its timing headers when its answer is
// still in the handler (an error), metrics and the access-log line. It
// runs before resp is released; ctx is only touched in the handler.
func (r *Recorder) Finish(ctx *fasthttp.RequestCtx, c *Call, resp *upstream.Response, out Outcome) {
	dur := time.Since(c.start)
	over := overheadOf(dur, resp.UpstreamWait+resp.BackoffWait, out.ClientWait)
	if c.sse {
		r.streams.Add(-1)
	} else {
		if !c.answering { // still in the handler
			c.status = ctx.Response.StatusCode()
		}
		if c.status < 300 {
			resp.UsageFromBody()
		}
	}
	c.cost = callCost(resp, dur)
	if !c.sse && !c.answering {
		setTimingHeaders(ctx, dur, over)
		setCostHeader(ctx, c.cost)
	}
	prompt, completion := int64(resp.Usage.PromptTokens), int64(resp.Usage.CompletionTokens)
	if !r.off {
		dm := c.series.forCall(c.group, resp.Deployment)
		dm.observe(c.status, c.stream, dur, c.ttfb, over)
		dm.usage(c.key, prompt, completion, c.cost)
		if out.Err != nil {
			dm.streamError(streamErrorCause(out.Err))
		}
	}
	if c.trace.span != nil {
		c.trace.end(c, resp, &out)
	}
	if r.opts.AccessLog {
		e := accessEntry{
			reqID: out.ReqID, userID: out.UserID, key: c.key, status: c.status, stream: c.stream,
			attempts: resp.Attempts, ttfb: c.ttfb, duration: dur, overhead: over, upstream: resp.UpstreamWait, backoff: resp.BackoffWait,
			prompt: prompt, completion: completion, cost: c.cost, err: out.Err, cache: c.cache,
		}
		if c.group != nil {
			e.model = c.group.Name
		}
		if resp.Deployment != nil {
			e.deployment = resp.Deployment.ID
		}
		r.logAccess(&e)
	}
}

// Rejected records a request refused before it reached an upstream
// (call it after writing the error, with its request id): timing
// headers, metrics, access log. g is the model group when known.
func (r *Recorder) Rejected(ctx *fasthttp.RequestCtx, series *Series, g *upstream.Group, stream bool, reason string, reqID []byte) {
	dur := time.Since(requestStart(ctx))
	setTimingHeaders(ctx, dur, dur)
	status := ctx.Response.StatusCode()
	if r.opts.Tracer != nil {
		r.traceRejected(ctx, g, status, reason)
	}
	if !r.off {
		r.rejectedInc(reason)
		series.forCall(g, nil).observe(status, stream, dur, 0, dur)
	}
	if r.opts.AccessLog {
		e := accessEntry{reqID: reqID, status: status, stream: stream, duration: dur, overhead: dur, reason: reason}
		if g != nil {
			e.model = g.Name
		}
		r.logAccess(&e)
	}
}

// setCostHeader sets x-llmedge-response-cost (USD) on a complete
// answer whose cost is known.
func setCostHeader(ctx *fasthttp.RequestCtx, cost float64) {
	if cost > 0 {
		var buf [32]byte
		ctx.Response.Header.SetBytesV("X-Llmedge-Response-Cost", strconv.AppendFloat(buf[:0], cost, 'g', -1, 64))
	}
}

// callCost is what the answer cost at its deployment's price
// (upstream/pricing: cached and reasoning tokens at their own prices);
// 0 when unpriced or nothing was reported.
func callCost(resp *upstream.Response, dur time.Duration) float64 {
	d := resp.Deployment
	if d == nil || !d.Price.Known() || !resp.Usage.Reported {
		return 0
	}
	u := &resp.Usage
	return d.Price.Cost(pricing.Usage{
		Prompt: int64(u.PromptTokens), CacheRead: int64(u.CacheReadTokens), CacheWrite: int64(u.CacheWriteTokens),
		Completion: int64(u.CompletionTokens), Reasoning: int64(u.ReasoningTokens), Duration: dur,
	})
}

func overheadOf(total, upstreamWait, clientWait time.Duration) time.Duration {
	if d := total - upstreamWait - clientWait; d > 0 {
		return d
	}
	return 0
}

// The timing headers' canonical names (SetCanonical: no normalizing
// pass per call).
var (
	hdrResponseDuration = []byte("X-Llmedge-Response-Duration-Ms")
	hdrOverheadDuration = []byte("X-Llmedge-Overhead-Duration-Ms")
)

// setTimingHeaders sets x-llmedge-response-duration-ms and
// x-llmedge-overhead-duration-ms (milliseconds, 3 decimals).
func setTimingHeaders(ctx *fasthttp.RequestCtx, total, overhead time.Duration) {
	var buf [32]byte
	ctx.Response.Header.SetCanonical(hdrResponseDuration, appendMillis(buf[:0], total))
	ctx.Response.Header.SetCanonical(hdrOverheadDuration, appendMillis(buf[:0], overhead))
}

// appendMillis appends d as milliseconds with three decimals, by
// integer arithmetic (AppendFloat costs several times more).
func appendMillis(b []byte, d time.Duration) []byte {
	us := d.Microseconds()
	if us < 0 {
		us = 0
	}
	b = strconv.AppendInt(b, us/1000, 10)
	frac := us % 1000
	return append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}
