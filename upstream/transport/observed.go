package transport

import (
	"time"

	"github.com/llmedge/llmedge/internal/clock"
)

// Observed is what a call measured about itself, for metrics, access
// logs and the x-llmedge-*-duration headers (upstream.Response embeds
// it).
type Observed struct {
	// UpstreamWait is the time spent waiting on upstreams: connecting,
	// sending, waiting for response headers, and blocked reading
	// response bodies (for a stream, until it is fully relayed), over
	// every attempt.
	UpstreamWait time.Duration
	// HeadersAt is when the answering attempt's response headers
	// arrived (zero for in-process answers such as mock).
	HeadersAt time.Time
	// ReadAt is when the last read of the answering attempt's
	// response body ended (zero before one, and for answers made in
	// process): a stream's relay writes each event to the client right
	// after the read that brought it, and takes this reading as its own
	// time instead of reading the clock again.
	ReadAt time.Time
}

// waited accounts for one round trip that started at start; on success
// its end is when the response headers arrived.
func (o *Observed) waited(start time.Time, err *error) {
	now := clock.Now(start)
	o.UpstreamWait += now.Sub(start)
	if *err == nil {
		o.HeadersAt = now
	}
}
