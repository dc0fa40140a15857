package provider

import (
	"errors"
	"fmt"
	"io"

	"github.com/llmedge/llmedge/internal/errbody"
	"github.com/llmedge/llmedge/sse"
	"github.com/llmedge/llmedge/upstream/transport"
)

// MidStreamFailure says what the client is told when a stream's
// transport fails after its first event: the message, OpenAI error type
// and code. eof names what an unexpected end of the body cut short
// ("mid-event", "before message_stop").
func MidStreamFailure(d *Endpoint, err error, eof string) (msg, typ, code string) {
	var re *RepeatedChunkError
	switch {
	case errors.As(err, &re):
		return fmt.Sprintf("upstream deployment %s: %s; the stream was ended", d.ID, re.Error()), "api_error", "repeated_streaming_chunk"
	case errors.Is(err, transport.ErrTimeout):
		return fmt.Sprintf("upstream deployment %s stalled: no stream event within stream_timeout (%s)", d.ID, d.StreamTimeout), "timeout_error", "upstream_timeout"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("upstream deployment %s closed the stream %s", d.ID, eof), "api_error", "upstream_stream_error"
	}
	return fmt.Sprintf("upstream deployment %s at %s failed mid-stream: %s", d.ID, d.Host, transport.FailureKind(err)), "api_error", "upstream_stream_error"
}

// AppendStreamError appends the SSE events that end a stream of route r
// with failure e when the client already has its 200 (keepalive pings
// went out before the answer): for chat-style routes data:
// {"error":...} (the upstream's own error object when it sent one) and
// [DONE]; for the Responses API its "error" event.
func AppendStreamError(dst []byte, r Route, e *Error) []byte {
	if r.Spec().Named {
		msg := e.Message
		if len(e.Body) > 0 {
			msg = string(e.Body)
		}
		code := e.Code
		if code == "" {
			code = e.Type
		}
		return AppendFailureEvent(dst, true, msg, e.Type, code)
	}
	dst = append(dst, "data: "...)
	start := len(dst)
	dst = e.AppendJSON(dst)
	// A pretty-printed upstream body would break the data line; JSON
	// whitespace may become spaces without changing the document (a
	// raw newline cannot occur inside a JSON string).
	for i := start; i < len(dst); i++ {
		if dst[i] == '\n' || dst[i] == '\r' {
			dst[i] = ' '
		}
	}
	dst = append(dst, "\n\n"...)
	return append(dst, sse.Done...)
}

// AppendFailureEvent appends the event that ends a stream failing
// mid-way: for chat and completions an OpenAI error object in a data
// event and [DONE]; for the Responses API (named events) its "error"
// event, which has no [DONE].
func AppendFailureEvent(dst []byte, named bool, message, typ, code string) []byte {
	if !named {
		dst = errbody.AppendOpenAIEvent(dst, message, typ, code)
		return append(dst, sse.Done...)
	}
	return errbody.AppendResponsesEvent(dst, message, code)
}
