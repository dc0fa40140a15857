package provider

import "github.com/valyala/fasthttp"

// AttemptTracer traces the upstream attempts of one call (tracing on;
// Request.Tracer nil costs nothing). The router calls it on the call's
// goroutine around each attempt of its retry loop, fallbacks included.
type AttemptTracer interface {
	// StartAttempt: attempt n (1-based, counted across fallbacks) on e
	// begins; retry is true after the call's first. It returns the W3C
	// traceparent (and tracestate, possibly empty) to send upstream.
	StartAttempt(e *Endpoint, n int, retry bool) (traceparent, tracestate string)
	// EndAttempt: the attempt ended with err (nil: answered). stream is
	// true when it answered with a stream still to be relayed.
	EndAttempt(err *Error, stream bool)
}

// SetTraceHeaders sends the current attempt's trace context upstream
// (every provider calls it beside X-Request-Id).
func (r *Request) SetTraceHeaders(h *fasthttp.RequestHeader) {
	if r.Traceparent != "" {
		h.SetCanonical(hdrTraceparent, stringBytes(r.Traceparent))
		if r.Tracestate != "" {
			h.SetCanonical(hdrTracestate, stringBytes(r.Tracestate))
		}
	}
}
