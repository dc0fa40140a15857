package server

import (
	"io"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// ObserveOptions are the Options for metrics, access logs and config
// reload.
type ObserveOptions struct {
	// AccessLog writes one info line per chat request to Logger.
	// Default off (llmedge serve turns it on).
	AccessLog bool
	// AccessLogOut, when set, receives the access-log lines directly:
	// formatted in place as Logger's handler would print them if it is
	// slog's TextHandler (JSONHandler with AccessLogJSON) without
	// ReplaceAttr/AddSource/WithAttrs, one Write per line, no
	// allocation. Pass the writer under that handler so lines
	// interleave; it must be safe for concurrent use. Logger still
	// decides whether info is enabled. Nil: lines go through Logger.
	AccessLogOut  io.Writer
	AccessLogJSON bool
	// DisableMetrics stops recording request metrics; GET /metrics then
	// shows process metrics only. Default false.
	DisableMetrics bool
	// LoadConfig re-reads the config file for Reload (SIGHUP, POST
	// /config/reload). Nil: reload is unavailable.
	LoadConfig func() (*config.Config, error)
	// Registry are the options a reloaded config's registry is built
	// with (Previous is set by the server).
	Registry upstream.Options
}

// callObs is what a chat call records about itself. Part of the pooled
// chatCall; zeroed when the call finishes.
type callObs struct {
	sn    *snapshot
	group *upstream.Group
	start time.Time
	// ttfb: until llmedge held the first byte of the answer (the
	// upstream's response headers; a stream's first event).
	ttfb time.Duration
	// stream: the client asked for a stream (the metrics' stream label,
	// whatever the answer turned out to be); sse: the answer went out
	// as SSE (counted in llmedge_streams_open until it ends).
	stream, sse bool
	// cache is the x-llmedge-cache value ("" when the cache is off).
	cache  string
	status int
	// keyName labels usage metrics and the access log: a key's name from
	// the config, never the key. Whoever authenticates the caller sets
	// it after begin.
	keyName string
	// clientWait is the time a stream spent blocked writing to the
	// client (streamBody.Flush).
	clientWait time.Duration
	relayErr   error
	// ctx is the request, for a non-stream call's finish (which runs in
	// the handler), and for a stream's write deadline (writestall.go),
	// set while fasthttp writes the response.
	ctx *fasthttp.RequestCtx
	// writeDeadline is the client write deadline (writestall.go), kept
	// writeTimeout ahead of the last write.
	writeDeadline time.Time
	// cut is set by Shutdown when the grace ran out with the stream
	// open (shutdown.go).
	cut          atomic.Bool
	writeTimeout time.Duration
	// answering: a complete answer was handed to fasthttp (answerBody),
	// its headers are out of reach.
	answering bool
}

// begin starts observing a call routed to g.
func (o *callObs) begin(ctx *fasthttp.RequestCtx, sn *snapshot, g *upstream.Group) {
	o.sn, o.group, o.keyName, o.ctx = sn, g, sn.keyName, ctx
	o.start = requestStart(ctx)
}

// requestStart is when the request was read (fasthttp records it).
func requestStart(ctx *fasthttp.RequestCtx) time.Time {
	if t := ctx.Time(); !t.IsZero() {
		return t
	}
	return time.Now()
}

// answered records the end of Registry.Chat.
func (o *callObs) answered(resp *upstream.Response) {
	if resp.Attempts == 0 {
		return // nothing was asked of any upstream: no first byte
	}
	now := time.Now()
	if resp.Stream == nil && !resp.HeadersAt.IsZero() {
		now = resp.HeadersAt
	}
	o.ttfb = now.Sub(o.start)
}

// streamStarts is called when a stream's headers are about to go out:
// the timing headers say what is known then (time to the first event).
func (s *Server) streamStarts(ctx *fasthttp.RequestCtx, c *chatCall, resp *upstream.Response) {
	c.obs.sse, c.obs.status = true, fasthttp.StatusOK
	s.metrics.streams.Add(1)
	s.streams.add(c)
	// Read before the relay goroutine starts adding to UpstreamWait.
	setTimingHeaders(ctx, c.obs.ttfb, overheadOf(c.obs.ttfb, resp.UpstreamWait, 0))
}

// keepaliveStarts is streamStarts for a stream committed before the
// router ran (keepalive pings): only the time so far is known.
func (s *Server) keepaliveStarts(ctx *fasthttp.RequestCtx, c *chatCall) {
	c.obs.sse, c.obs.status = true, fasthttp.StatusOK
	s.metrics.streams.Add(1)
	s.streams.add(c)
	d := time.Since(c.obs.start)
	setTimingHeaders(ctx, d, d)
}

// observeDone records a finished call: timing headers (non-stream),
// metrics and the access log line. It runs before resp is released.
func (s *Server) observeDone(c *chatCall, resp *upstream.Response) {
	o := &c.obs
	dur := time.Since(o.start)
	over := overheadOf(dur, resp.UpstreamWait, o.clientWait)
	if o.sse {
		s.metrics.streams.Add(-1)
	} else {
		if !o.answering { // still in the handler
			o.status = o.ctx.Response.StatusCode()
			setTimingHeaders(o.ctx, dur, over)
		}
		if o.status < 300 {
			resp.UsageFromBody()
		}
	}
	prompt, completion := int64(resp.Usage.PromptTokens), int64(resp.Usage.CompletionTokens)
	if !s.metrics.off {
		dm := o.sn.metrics.forCall(o.group, resp.Deployment)
		dm.observe(o.status, o.stream, dur, o.ttfb, over)
		dm.usage(o.keyName, prompt, completion)
		if o.relayErr != nil {
			dm.streamError(streamErrorCause(o.relayErr))
		}
	}
	if s.opts.AccessLog {
		e := accessEntry{
			reqID: c.reqID, userID: c.req.UserID, key: o.keyName, status: o.status, stream: o.stream,
			attempts: resp.Attempts, ttfb: o.ttfb, duration: dur, overhead: over, upstream: resp.UpstreamWait,
			prompt: prompt, completion: completion, err: o.relayErr, cache: o.cache,
		}
		if o.group != nil {
			e.model = o.group.Name
		}
		if resp.Deployment != nil {
			e.deployment = resp.Deployment.ID
		}
		s.logAccess(&e)
	}
	if o.sse {
		// Last: Shutdown waits for this, and the line above, to be done.
		s.streams.remove(c)
	}
}

// observeRejected records a chat request refused before it reached an
// upstream (call it after writing the error): request id and timing
// headers, metrics, access log. g is the model group when known.
// Limiters call it with rejectRateLimited (and metricRateLimited for
// the reason).
func (s *Server) observeRejected(ctx *fasthttp.RequestCtx, sn *snapshot, g *upstream.Group, stream bool, reason string) {
	dur := time.Since(requestStart(ctx))
	var idBuf [160]byte
	id := s.requestID(ctx, idBuf[:0])
	ctx.Response.Header.SetBytesV("X-Request-Id", id)
	setTimingHeaders(ctx, dur, dur)
	status := ctx.Response.StatusCode()
	if !s.metrics.off {
		s.metrics.rejectedInc(reason)
		sn.metrics.forCall(g, nil).observe(status, stream, dur, 0, dur)
	}
	if s.opts.AccessLog {
		e := accessEntry{reqID: id, status: status, stream: stream, duration: dur, overhead: dur, reason: reason}
		if g != nil {
			e.model = g.Name
		}
		s.logAccess(&e)
	}
}

func overheadOf(total, upstreamWait, clientWait time.Duration) time.Duration {
	if d := total - upstreamWait - clientWait; d > 0 {
		return d
	}
	return 0
}

// setTimingHeaders sets x-llmedge-response-duration-ms and
// x-llmedge-overhead-duration-ms (milliseconds, 3 decimals).
func setTimingHeaders(ctx *fasthttp.RequestCtx, total, overhead time.Duration) {
	var buf [32]byte
	ctx.Response.Header.SetBytesV("X-Llmedge-Response-Duration-Ms", appendMillis(buf[:0], total))
	ctx.Response.Header.SetBytesV("X-Llmedge-Overhead-Duration-Ms", appendMillis(buf[:0], overhead))
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
