package server

import (
	"errors"
	"io"
	"net"
	"time"

	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// errReadUnsupported is returned if fasthttp ever pulls a stream body
// with Read instead of WriteTo (it does not for chunked responses).
var errReadUnsupported = errors.New("llmedge: stream bodies are written with WriteTo")

// streamBody is a streamed answer as a fasthttp body stream. fasthttp
// hands WriteTo a writer whose every Write becomes one HTTP chunk,
// flushed to the socket. The relay runs on the connection's own
// goroutine: no pipe and no extra goroutine per stream, unlike
// SetBodyStreamWriter. Events that arrive together are written as one
// chunk (one syscall); a lone event is flushed alone, immediately.
type streamBody struct {
	s    *Server
	c    *call
	resp *upstream.Response
	out  io.Writer
	buf  eventBuf
	done bool
	// traced: the call has a span, which reads each event's finish
	// reasons (observe.Call.StreamEvent); kept here so that an event
	// of an untraced call does not touch the call's observer.
	traced bool
}

// SupportsBodyWriteTo tells fasthttp to call WriteTo.
func (b *streamBody) SupportsBodyWriteTo() bool { return true }

// WriteTo relays the stream to w.
func (b *streamBody) WriteTo(w io.Writer) (int64, error) {
	b.out = w
	err := b.resp.Stream.Relay(b)
	if err != nil && b.c.out.cut.Load() {
		err = endCut(b.c, b, err)
	}
	b.c.out.err = err
	if errors.Is(err, upstream.ErrClientGone) || errors.Is(err, upstream.ErrCanceled) {
		return 0, err
	}
	return 0, nil
}

// Write buffers p until Flush; the call's span (tracing on) reads its
// finish reasons.
func (b *streamBody) Write(p []byte) (int, error) {
	if b.traced {
		b.c.obs.StreamEvent(p)
	}
	b.buf.append(p)
	return len(p), nil
}

// Flush sends what Write buffered as one chunk, at the time of the
// upstream read that brought its events (read only when the client
// connection times its blocked writes: flushEvents uses it then only).
func (b *streamBody) Flush() error {
	var at time.Time
	if b.c.out.bw != nil {
		at = b.resp.ReadAt
	}
	return flushEvents(b.c, &b.buf, b.out, at)
}

// flushEvents writes the events buf holds to out as one chunk, under
// the call's write deadline, counting the time blocked as client wait;
// every stream body's Flush (streamBody, keepaliveBody) is this.
//
// at is the time of the upstream read that brought the events (zero:
// none, or not right before): the relay writes an event right after
// that read, so at serves as now for the deadline. Over a client
// connection that times its own blocked writes (c.out.bw) the client
// wait is then the time the write blocked, and no clock is read unless
// it blocks (a write the socket takes at once is llmedge's work, not a
// wait). Otherwise the write is timed with the clock.
func flushEvents(c *call, buf *eventBuf, out io.Writer, at time.Time) error {
	p := buf.bytes()
	if len(p) == 0 {
		return nil
	}
	bw := c.out.bw
	timed := at.IsZero() || bw == nil
	var before time.Duration
	if timed {
		at = time.Now()
	} else {
		before, _ = bw.WriteBlocked()
	}
	c.out.armDeadline(at)
	_, err := out.Write(p)
	if timed {
		c.out.wait += time.Since(at)
	} else {
		after, _ := bw.WriteBlocked()
		c.out.wait += after - before
	}
	buf.release()
	return err
}

func (b *streamBody) Read([]byte) (int, error) { return 0, errReadUnsupported }

// Close is called by fasthttp once the response is written (or
// abandoned): it releases the upstream side and the call.
func (b *streamBody) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	b.buf.release()
	b.s.finish(b.c, b.resp)
	return nil
}

// answer hands a successful upstream answer to the client: a complete
// body as is (answerBody), or a stream as SSE relayed event by event by
// streamBody. Either finishes the call when fasthttp has written it.
func (s *Server) answer(ctx *fasthttp.RequestCtx, c *call, resp *upstream.Response) {
	if resp.Stream == nil {
		ctx.SetStatusCode(resp.StatusCode)
		ctx.Response.Header.SetContentTypeBytes(resp.ContentType)
		s.obs.Answering(ctx, &c.obs, resp)
		// fasthttp arms the write deadline before the headers go out
		// (they go with the first part); Answering's clock reading
		// comes before it.
		c.out.armedAt(c.obs.HeadAt())
		c.answer = answerBody{s: s, c: c, resp: resp}
		ctx.Response.SetBodyStream(&c.answer, len(resp.Body))
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	setSSEHeaders(&ctx.Response.Header)
	s.obs.Answering(ctx, &c.obs, resp)
	if ctx.Request.Header.IsHTTP11() { // else hijacked (sendStream)
		c.out.armedAt(time.Now())
	}
	if bw, ok := ctx.Conn().(blockedWriter); ok {
		if _, counts := bw.WriteBlocked(); counts {
			c.out.bw = bw
		}
	}
	s.streams.add(c)
	s.letBodyGo(ctx, c, resp)
	c.body = streamBody{s: s, c: c, resp: resp, traced: c.obs.Traced()}
	sendStream(ctx, &c.body)
}

// sseBody is a stream body: streamBody or keepaliveBody.
type sseBody interface {
	fasthttp.BodyWriterTo
	io.Reader
	io.Closer
}

// sendStream makes b the response body. HTTP/1.1 clients get it
// chunked, written by fasthttp on the connection's goroutine. HTTP/1.0
// has no chunked coding (RFC 9112 §7.1), and fasthttp frames every body
// of unknown length with it, so an HTTP/1.0 client gets the stream
// close-delimited instead: the connection is taken over once the
// handler returns, the header goes out without Content-Length or
// Transfer-Encoding and with Connection: close, then the events as they
// are, and the connection is closed at the end.
func sendStream(ctx *fasthttp.RequestCtx, b sseBody) {
	if ctx.Request.Header.IsHTTP11() {
		ctx.Response.SetBodyStream(b, -1)
		return
	}
	ctx.Response.Header.SetContentLength(-2) // identity: no length, Connection: close
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(conn net.Conn) {
		// fasthttp releases ctx only after this returns.
		head := ctx.Response.Header.AppendBytes(nil)
		if _, err := conn.Write(head); err == nil {
			_, _ = b.WriteTo(conn)
		}
		_ = b.Close()
	})
}
