package transport

import (
	"testing"

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
		x := &Exchange{}
		b.ReportAllocs()
		for b.Loop() {
			_ = x.setDecoder(&resp)
		}
	})
}
