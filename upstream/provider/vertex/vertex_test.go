package vertex

import (
	"testing"
	"time"

	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/valyala/fasthttp"
	"golang.org/x/oauth2"
)

// BenchmarkSetAuth is the per-request auth cost of the pass-through path
// for an api-key deployment (azure) and a cached OAuth token (vertex).
func BenchmarkSetAuth(b *testing.B) {
	var req fasthttp.Request
	azure := &provider.Endpoint{Auth: []byte("azure-key"), AuthHeader: "api-key"}
	vt := &vertexTokens{src: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "ya29.token", Expiry: time.Now().Add(time.Hour)})}
	vertex := &provider.Endpoint{Token: vt.token}
	for _, c := range []struct {
		name string
		d    *provider.Endpoint
	}{{"azure", azure}, {"vertex", vertex}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if e := c.d.SetAuth(&req); e != nil {
					b.Fatal(e)
				}
			}
		})
	}
}
