package upstream

import (
	"errors"
	"fmt"
	"io"

	"github.com/llmedge/llmedge/sse"
	"github.com/llmedge/llmedge/upstream/transport"
	"github.com/valyala/fasthttp"
)

// ErrClientGone is returned by Stream.Relay when writing to the client
// failed: the client went away.
var ErrClientGone = errors.New("client went away mid-stream")

// Writer is what a Stream relays to: the client connection's buffered
// writer. Flush must push buffered bytes to the client.
type Writer interface {
	Write(p []byte) (int, error)
	Flush() error
}

// Stream is an answer being streamed in the client's format. Its first
// event has already arrived (until then a failure may be retried
// elsewhere).
type Stream interface {
	// Relay writes every event to w, flushing as each one arrives, and
	// ends the stream the way its format ends ("data: [DONE]" for chat).
	// A failure after the first event is written as the format's error
	// event; Relay then returns the failure. ErrClientGone means w
	// failed.
	Relay(w Writer) error
}

// translator turns one upstream stream into the client's events, one
// upstream event at a time. Each provider that streams has one; the
// relay driver around it owns writing, flushing, the client going away,
// draining and the final error event.
type translator interface {
	// next returns the client's bytes for the next upstream event
	// (possibly none). end means the stream is complete: b is its last
	// bytes. An error ends the stream through failure. b stays valid
	// until the next call.
	next() (b []byte, end bool, err error)
	// buffered reports whether another upstream event can be read
	// without waiting: the driver holds its flush until then.
	buffered() bool
	// failure appends to dst what ends the client's stream after err
	// (the upstream's failure, never ErrCanceled) and returns the error
	// Relay reports.
	failure(dst []byte, err error) ([]byte, error)
	// drain reads what is left of the upstream body after the end, for
	// a bounded time (drainStream), so the connection can be reused.
	drain()
	// release gives the translator back to its pool.
	release()
}

// relay is the one relay driver: the Stream of every streamed answer.
type relay struct {
	t translator
	// x is the upstream exchange, marked failed (not reused) when the
	// stream fails; nil for answers made in-process.
	x *transport.Exchange
	// errBuf holds the final error event.
	errBuf []byte
}

// start makes out's answer the stream t translates.
func (out *Response) startRelay(t translator, x *transport.Exchange) {
	out.relay.t, out.relay.x = t, x
	out.Stream = &out.relay
}

func (r *relay) reset() {
	if r.t != nil {
		r.t.release()
	}
	r.t, r.x = nil, nil
	if cap(r.errBuf) > 4<<10 {
		r.errBuf = nil
	}
}

// Relay implements Stream.
func (r *relay) Relay(w Writer) error {
	for {
		b, end, err := r.t.next()
		if err != nil {
			return r.fail(w, err)
		}
		if len(b) > 0 {
			if _, err := w.Write(b); err != nil {
				return ErrClientGone
			}
		}
		if end || !r.t.buffered() {
			if w.Flush() != nil {
				return ErrClientGone
			}
		}
		if end {
			r.t.drain()
			return nil
		}
	}
}

// fail ends the client's stream with the translator's error event.
func (r *relay) fail(w Writer, err error) error {
	if errors.Is(err, ErrCanceled) {
		return ErrCanceled
	}
	if r.x != nil {
		r.x.MarkFailed()
	}
	var ret error
	r.errBuf, ret = r.t.failure(r.errBuf[:0], err)
	if _, werr := w.Write(r.errBuf); werr != nil || w.Flush() != nil {
		return ErrClientGone
	}
	return ret
}

// sseEvents is the upstream side of a translator reading an SSE
// stream: the first event (read before the attempt returned, so that a
// failure before it could be retried), then the scanner's. It gives the
// translator buffered and drain.
type sseEvents struct {
	x     *transport.Exchange
	sc    *sse.Scanner
	first sse.Event
	// started: first has been handed out; eof: the body ended (nothing
	// left to drain).
	started, eof bool
}

// nextEvent returns the next upstream event; io.EOF at the end of the
// body.
func (s *sseEvents) nextEvent() (sse.Event, error) {
	if !s.started {
		s.started = true
		return s.first, nil
	}
	ev, err := s.sc.Next()
	if err == io.EOF {
		s.eof = true
	}
	return ev, err
}

func (s *sseEvents) buffered() bool { return s.sc.Buffered() }

// drain reads what is left after the last event (usually nothing) so
// the connection can be reused.
func (s *sseEvents) drain() {
	if !s.eof {
		transport.DrainStream(s.x, s.sc)
	}
}

// firstEventFailed ends an attempt whose stream failed before its
// first event: the connection is not reused, and the failure, like any
// before the client has a byte, may be retried elsewhere.
func firstEventFailed(d *Deployment, x *transport.Exchange, uresp *fasthttp.Response, err error) *Error {
	x.MarkFailed()
	x.Release(uresp)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return &Error{Status: 502, Type: "api_error", Code: "upstream_empty_stream", Retryable: true,
			Message: fmt.Sprintf("upstream deployment %s closed the stream before its first event", d.ID)}
	}
	return transportError(d, err)
}

// readAnswer reads a complete (non-stream) answer into out.Body as the
// upstream sent it, with its status and content type.
func (out *Response) readAnswer(d *Deployment, uresp *fasthttp.Response) *Error {
	status := uresp.StatusCode()
	body, err := out.x.ReadAll(out.Body[:0], transport.MaxResponseBody)
	out.Body = body
	out.x.Release(uresp)
	if err != nil {
		return transportError(d, err)
	}
	out.StatusCode = status
	out.ContentType = append(out.ContentType[:0], uresp.Header.ContentType()...)
	return nil
}
