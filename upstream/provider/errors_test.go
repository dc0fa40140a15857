package provider

import (
	"fmt"
	"testing"

	"github.com/llmedge/llmedge/sse"
	"github.com/llmedge/llmedge/upstream/transport"
)

// An answer over llmedge's caps is the upstream's doing and would come
// back the same on a retry: 502, not a retryable 503.
func TestTooLargeAnswerIsNotRetried(t *testing.T) {
	d := &Endpoint{ID: "d-0", ModelName: "m"}
	for _, err := range []error{transport.ErrBodyTooLarge, sse.ErrEventTooLarge, fmt.Errorf("reading: %w", sse.ErrEventTooLarge)} {
		e := TransportError(d, err)
		if e.Status != 502 || e.Retryable || e.Code != "upstream_response_too_large" {
			t.Errorf("%v -> status %d retryable %v code %q", err, e.Status, e.Retryable, e.Code)
		}
	}
}
