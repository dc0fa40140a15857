package provider

import (
	"bytes"
	"testing"

	"github.com/valyala/fasthttp"
)

// The canonical names set per request are what Set normalizes them to,
// so SetCanonical writes what Set wrote, hostile values included.
func TestCanonicalRequestHeaderNames(t *testing.T) {
	for _, name := range []string{"X-Request-Id", "X-Sm-User-Id", "Traceparent", "Tracestate", "X-Api-Key", "Anthropic-Version", "Anthropic-Beta"} {
		for _, v := range []string{"", "v", "a\r\nInjected: 1", " spaced ", "a\tb", "\n"} {
			var a, b fasthttp.RequestHeader
			a.Set(name, v)
			SetCanonicalString(&b, []byte(name), v)
			if !bytes.Equal(a.Header(), b.Header()) {
				t.Errorf("%s %q: Set gives\n%s\nSetCanonical gives\n%s", name, v, a.Header(), b.Header())
			}
			var lower fasthttp.RequestHeader
			lower.Set(string(bytes.ToLower([]byte(name))), v)
			if !bytes.Equal(lower.Header(), b.Header()) {
				t.Errorf("%s is not canonical", name)
			}
		}
	}
}
