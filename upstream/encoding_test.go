package upstream

import (
	"testing"

	"github.com/llmedge/llmedge/sse"
	"github.com/valyala/fasthttp"
)

// BenchmarkIdentityEncoding is what asking for identity encoding adds to
// a request (the header set on the reused request) and to its answer
// (the Content-Encoding check).
func BenchmarkIdentityEncoding(b *testing.B) {
	b.Run("request header", func(b *testing.B) {
		var req fasthttp.Request
		req.SetRequestURI("http://up.local/v1/chat/completions")
		req.Header.Set("Authorization", "Bearer k")
		b.ReportAllocs()
		for b.Loop() {
			req.Header.SetCanonical(acceptEncodingKey, acceptIdentityValue)
		}
	})
	b.Run("answer check", func(b *testing.B) {
		var resp fasthttp.Response
		resp.Header.SetContentType("application/json")
		x := &exchange{}
		b.ReportAllocs()
		for b.Loop() {
			_ = x.setDecoder(&resp)
		}
	})
}

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
