package upstream

import (
	"time"

	"github.com/llmedge/llmedge/sse"
)

// drainTimeout bounds reading what follows a stream's last event
// ([DONE], message_stop): usually just the end of the chunked body,
// which lets the connection be reused. An upstream that holds the
// stream open (or keeps sending keep-alives) after the answer is
// complete must not hold the client's response open with it: past the
// bound the connection is closed instead.
const drainTimeout = time.Second

// drainStream reads the rest of a finished stream for at most
// drainTimeout.
func drainStream(x *exchange, sc *sse.Scanner) {
	dl := time.Now().Add(drainTimeout)
	if x.deadline.IsZero() || dl.Before(x.deadline) {
		x.deadline = dl
	}
	x.readTimeout = drainTimeout
	for {
		if _, err := sc.Next(); err != nil {
			return
		}
	}
}
