package server

import (
	"errors"
	"io"
	"sync"
	"time"

	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

var pingEvent = []byte(": ping\n\n")

// streamWithKeepalive serves a stream request when keepalive pings are
// configured. Load balancers cut connections that stay silent (60 s on
// AWS ALB by default) while a reasoning model thinks, so the response
// is committed at once (200, SSE headers flushed) and the router runs
// inside the body writer while ": ping" comments go out whenever the
// client heard nothing for the interval. The price: a failure before
// the first event can no longer change the status; it becomes an SSE
// error event and a clean end, and the x-llmedge-model-id and
// x-llmedge-attempts headers are not sent (they are not known yet).
func (s *Server) streamWithKeepalive(ctx *fasthttp.RequestCtx, c *call, g *upstream.Group) {
	ctx.Response.Header.SetCanonical(hdrRequestID, c.reqID)
	s.obs.Answering(ctx, &c.obs, nil)
	s.streams.add(c)
	ctx.SetStatusCode(fasthttp.StatusOK)
	setSSEHeaders(&ctx.Response.Header)
	ctx.Response.ImmediateHeaderFlush = true
	sendStream(ctx, &keepaliveBody{s: s, c: c, g: g, every: c.sn.keepalive})
}

// keepaliveBody is the body of a stream with keepalive pings: like
// streamBody it is written by fasthttp's connection goroutine through
// WriteTo (every Write to out is one chunk, flushed); a pinger goroutine
// shares out under mu.
type keepaliveBody struct {
	s     *Server
	c     *call
	g     *upstream.Group
	every time.Duration
	resp  *upstream.Response

	mu     sync.Mutex
	out    io.Writer
	buf    eventBuf
	last   time.Time
	failed bool
	stop   chan struct{}
	wg     sync.WaitGroup
	done   bool
}

func (b *keepaliveBody) SupportsBodyWriteTo() bool { return true }

func (b *keepaliveBody) Read([]byte) (int, error) { return 0, errReadUnsupported }

// WriteTo runs the call and relays it to w.
func (b *keepaliveBody) WriteTo(w io.Writer) (int64, error) {
	b.out, b.last, b.stop = w, time.Now(), make(chan struct{})
	b.wg.Add(1)
	go b.pinger()
	b.resp = upstream.AcquireResponse()
	err := b.c.sn.reg.Chat(b.g, &b.c.req, b.resp)
	b.c.obs.Answered(b.resp)
	switch {
	case err != nil && b.c.out.cut.Load():
		err = endCut(b.c, b, err)
	case err != nil:
		b.writeError(err)
	case b.resp.Stream == nil:
		b.writeError(&upstream.Error{Status: 502, Type: "api_error", Code: "upstream_not_streaming",
			Message: "the upstream answered a stream request with a non-stream body"})
	default:
		b.s.letBodyGo(b.c.out.ctx, b.c, b.resp)
		if err = b.resp.Stream.Relay(b); err != nil && b.c.out.cut.Load() {
			err = endCut(b.c, b, err)
		}
	}
	b.c.out.err = err
	close(b.stop)
	b.wg.Wait()
	if errors.Is(err, upstream.ErrClientGone) || errors.Is(err, upstream.ErrCanceled) || b.failed {
		return 0, upstream.ErrClientGone
	}
	return 0, nil
}

// Write buffers p until Flush (the relay writes whole events); the
// call's span (tracing on) reads their finish reasons.
func (b *keepaliveBody) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.c.obs.StreamEvent(p)
	b.last = time.Now()
	b.buf.append(p)
	return len(p), nil
}

// Flush sends what Write buffered as one chunk.
func (b *keepaliveBody) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	err := flushEvents(b.c, &b.buf, b.out, time.Time{})
	if err != nil {
		b.failed = true
	}
	return err
}

func (b *keepaliveBody) pinger() {
	defer b.wg.Done()
	t := time.NewTicker(max(b.every/4, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			if !b.ping() {
				// The client is gone: stop the upstream too.
				b.c.cancel.Cancel()
				return
			}
		}
	}
}

// ping writes a comment when the client heard nothing for the
// interval; false when the client cannot be written to.
func (b *keepaliveBody) ping() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failed {
		return false
	}
	if time.Since(b.last) < b.every || len(b.buf.bytes()) > 0 {
		return true
	}
	b.last = time.Now()
	b.c.out.armDeadline(b.last)
	if _, err := b.out.Write(pingEvent); err != nil {
		b.failed = true
		return false
	}
	return true
}

// writeError ends the stream with an error event in the route's shape.
func (b *keepaliveBody) writeError(err error) {
	var ue *upstream.Error
	if !errors.As(err, &ue) {
		ue = &upstream.Error{Status: 502, Type: "api_error", Code: "upstream_error", Message: "upstream failure"}
	}
	if ue.Status == 499 {
		return
	}
	ev := upstream.AppendStreamError(make([]byte, 0, 512), b.c.req.Route, ue)
	_, _ = b.Write(upstream.ScrubSecrets(ev, b.c.sn.edge.secrets))
	_ = b.Flush()
}

// Close is called by fasthttp once the response is written (or
// abandoned): it releases the upstream side and the call.
func (b *keepaliveBody) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	b.buf.release()
	if b.resp == nil {
		// WriteTo never ran (the client left before the headers).
		b.resp = upstream.AcquireResponse()
	}
	b.s.finish(b.c, b.resp)
	return nil
}
