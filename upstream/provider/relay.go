package provider

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

// Translator turns one upstream stream into the client's events, one
// upstream event at a time. Each provider that streams has one; the
// relay driver around it owns writing, flushing, the client going away,
// draining and the final error event.
type Translator interface {
	// Next returns the client's bytes for the next upstream event
	// (possibly none). end means the stream is complete: b is its last
	// bytes. An error ends the stream through failure. b stays valid
	// until the next call.
	Next() (b []byte, end bool, err error)
	// Buffered reports whether another upstream event can be read
	// without waiting: the driver holds its flush until then.
	Buffered() bool
	// Failure appends to dst what ends the client's stream after err
	// (the upstream's failure, never transport.ErrCanceled) and returns the error
	// Relay reports.
	Failure(dst []byte, err error) ([]byte, error)
	// Drain reads what is left of the upstream body after the end, for
	// a bounded time (transport.DrainStream), so the connection can be reused.
	Drain()
	// Release gives the translator back to its pool.
	Release()
}

// relay is the one relay driver: the Stream of every streamed answer.
type relay struct {
	t Translator
	// x is the upstream exchange, marked failed (not reused) when the
	// stream fails; nil for answers made in-process.
	x *transport.Exchange
	// errBuf holds the final error event.
	errBuf []byte
	// text is t when it reports its events' text (nil: unguarded);
	// guard ends a stream repeating one chunk (repeat.go).
	text  TextReporter
	guard repeatGuard
}

// StartRelay makes out's answer the stream t translates over x (nil
// for answers made in-process). Its first event has come, so nothing
// is sent upstream again: the upstream request goes back to fasthttp's
// pool with its body (letRequestGo) rather than being held for the
// stream's life.
func (out *Answer) StartRelay(t Translator, x *transport.Exchange) {
	out.letRequestGo()
	out.relay.t, out.relay.x = t, x
	out.relay.guard.reset(out.RepeatLimit)
	out.relay.text = nil
	if out.RepeatLimit > 0 {
		out.relay.text, _ = t.(TextReporter)
	}
	out.Stream = &out.relay
}

// WrapTranslator puts wrap's translator around the started stream's
// (a client of another API reading a chat stream: upstream's
// clientStream); a no-op when the answer is not a stream.
func (out *Answer) WrapTranslator(wrap func(Translator) Translator) {
	if out.Stream != nil && out.relay.t != nil {
		out.relay.t = wrap(out.relay.t)
		if out.relay.text != nil {
			out.relay.text, _ = out.relay.t.(TextReporter)
		}
	}
}

func (r *relay) reset() {
	if r.t != nil {
		r.t.Release()
	}
	r.t, r.x, r.text = nil, nil, nil
	r.guard.reset(0)
	if cap(r.errBuf) > 4<<10 {
		r.errBuf = nil
	}
}

// Relay implements Stream.
func (r *relay) Relay(w Writer) error {
	for {
		// The guard reads the text of the event written last, before
		// the next is read (where nothing of the loop's is live, so the
		// frame stays small).
		if r.text != nil && r.repeated() {
			return r.failRepeated(w)
		}
		b, end, err := r.t.Next()
		if err != nil {
			return r.fail(w, err)
		}
		if len(b) > 0 {
			if _, err := w.Write(b); err != nil {
				return ErrClientGone
			}
		}
		if end || !r.t.Buffered() {
			if w.Flush() != nil {
				return ErrClientGone
			}
		}
		if end {
			r.t.Drain()
			return nil
		}
	}
}

// repeated feeds the last event's text to the guard. Not inlined, nor
// is failRepeated: Relay's frame stays as small as it was (the
// connection goroutine's stack, server/stack_test.go).
//
//go:noinline
func (r *relay) repeated() bool { return r.guard.see(r.text.LastText()) }

// failRepeated ends a stream stuck in a loop after the chunk that
// reached the limit: the upstream connection is closed (fail marks the
// exchange failed) and the client gets the error event.
//
//go:noinline
func (r *relay) failRepeated(w Writer) error {
	return r.fail(w, &RepeatedChunkError{Limit: r.guard.limit})
}

// fail ends the client's stream with the translator's error event.
func (r *relay) fail(w Writer, err error) error {
	if errors.Is(err, transport.ErrCanceled) {
		return transport.ErrCanceled
	}
	if r.x != nil {
		r.x.MarkFailed()
	}
	var ret error
	r.errBuf, ret = r.t.Failure(r.errBuf[:0], err)
	if _, werr := w.Write(r.errBuf); werr != nil || w.Flush() != nil {
		return ErrClientGone
	}
	return ret
}

// SSEEvents is the upstream side of a translator reading an SSE
// stream: the first event (read before the attempt returned, so that a
// failure before it could be retried), then the scanner's. It gives the
// translator buffered and drain.
type SSEEvents struct {
	X     *transport.Exchange
	SC    *sse.Scanner
	First sse.Event
	// started: first has been handed out; eof: the body ended (nothing
	// left to drain).
	started, eof bool
}

// NextEvent returns the next upstream event; io.EOF at the end of the
// body.
func (s *SSEEvents) NextEvent() (sse.Event, error) {
	if !s.started {
		s.started = true
		return s.First, nil
	}
	ev, err := s.SC.Next()
	if err == io.EOF {
		s.eof = true
	}
	return ev, err
}

// Buffered implements Translator.
func (s *SSEEvents) Buffered() bool { return s.SC.Buffered() }

// Drain reads what is left after the last event (usually nothing) so
// the connection can be reused.
func (s *SSEEvents) Drain() {
	if !s.eof {
		transport.DrainStream(s.X, s.SC)
	}
}

// FirstEventFailed ends an attempt whose stream failed before its
// first event: the connection is not reused, and the failure, like any
// before the client has a byte, may be retried elsewhere.
func FirstEventFailed(d *Endpoint, x *transport.Exchange, uresp *fasthttp.Response, err error) *Error {
	x.MarkFailed()
	x.Release(uresp)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return &Error{Status: 502, Type: "api_error", Code: "upstream_empty_stream", Retryable: true,
			Message: fmt.Sprintf("upstream deployment %s closed the stream before its first event", d.ID)}
	}
	return TransportError(d, err)
}

// ReadAnswer reads a complete (non-stream) answer into out.Body as the
// upstream sent it, with its status and content type.
func (out *Answer) ReadAnswer(d *Endpoint, uresp *fasthttp.Response) *Error {
	status := uresp.StatusCode()
	body, err := out.X.ReadAll(out.Body[:0], transport.MaxResponseBody)
	out.Body = body
	out.X.Release(uresp)
	if err != nil {
		return TransportError(d, err)
	}
	out.StatusCode = status
	out.ContentType = append(out.ContentType[:0], uresp.Header.ContentType()...)
	return nil
}
