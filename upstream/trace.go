package upstream

import "github.com/valyala/fasthttp"

// AttemptTracer traces the upstream attempts of one call (tracing on;
// ChatRequest.Tracer nil costs nothing). Methods run on the call's
// goroutine, around each attempt of the retry loop, fallbacks
// included.
type AttemptTracer interface {
	// StartAttempt: attempt n (1-based, counted across fallbacks) on d
	// begins; retry is true after the call's first. It returns the W3C
	// traceparent (and tracestate, possibly empty) to send upstream.
	StartAttempt(d *Deployment, n int, retry bool) (traceparent, tracestate string)
	// EndAttempt: the attempt ended with err (nil: answered). stream is
	// true when it answered with a stream still to be relayed.
	EndAttempt(err *Error, stream bool)
}

// setTraceHeaders sends the attempt's trace context upstream.
func (req *ChatRequest) setTraceHeaders(h *fasthttp.RequestHeader) {
	if req.traceparent != "" {
		h.Set("Traceparent", req.traceparent)
		if req.tracestate != "" {
			h.Set("Tracestate", req.tracestate)
		}
	}
}
