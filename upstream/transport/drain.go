package transport

import (
	"time"

	"github.com/llmedge/llmedge/sse"
)

// Caps on what an exchange reads: MaxErrorBody of an upstream error
// body, MaxResponseBody of a non-stream answer, MaxStreamEvent of one
// stream event. A Responses API response.completed event repeats the
// whole response (instructions, tools, every output item), which for
// coding agents can pass the SSE codec's 1 MiB default.
const (
	MaxErrorBody    = 1 << 20
	MaxResponseBody = 64 << 20
	MaxStreamEvent  = 16 << 20
)

// drainTimeout bounds reading what follows a stream's last event
// ([DONE], message_stop): usually just the end of the chunked body,
// which lets the connection be reused. An upstream that holds the
// stream open (or keeps sending keep-alives) after the answer is
// complete must not hold the client's response open with it: past the
// bound the connection is closed instead.
const drainTimeout = time.Second

// DrainStream reads the rest of x's finished stream through sc for at
// most drainTimeout.
func DrainStream(x *Exchange, sc *sse.Scanner) {
	dl := time.Now().Add(drainTimeout)
	if x.Deadline.IsZero() || dl.Before(x.Deadline) {
		x.Deadline = dl
	}
	x.ReadTimeout = drainTimeout
	for {
		if _, err := sc.Next(); err != nil {
			return
		}
	}
}
