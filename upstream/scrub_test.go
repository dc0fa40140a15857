package upstream

import (
	"testing"

	"github.com/llmedge/llmedge/sse"
)

// BenchmarkScrubErrorEventChunk is what the error-event check adds to
// each relayed stream event that is not an error.
func BenchmarkScrubErrorEventChunk(b *testing.B) {
	d := &Deployment{key: "0123456789abcdef"}
	data := []byte(`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}`)
	ev := sse.Event{Raw: append(append([]byte("data: "), data...), "\n\n"...), Data: data}
	b.ReportAllocs()
	for b.Loop() {
		_ = d.scrubErrorEvent(&ev)
	}
}
