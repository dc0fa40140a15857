package openai

import (
	"bufio"
	"bytes"
	"io"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/provider"
)

// BenchmarkUpstreamRequest builds and writes one pass-through request:
// "head" copies the endpoint's constant head, "fields" builds it field
// by field (an endpoint without heads), as every request did before.
func BenchmarkUpstreamRequest(b *testing.B) {
	for _, heads := range []bool{true, false} {
		name := "fields"
		if heads {
			name = "head"
		}
		b.Run(name, func(b *testing.B) {
			d, req := benchEndpoint(heads)
			var out provider.Answer
			bw := bufio.NewWriter(io.Discard)
			b.ReportAllocs()
			for b.Loop() {
				if e := buildRequest(d, req, nil, &out); e != nil {
					b.Fatal(e)
				}
				if err := out.Req.Write(bw); err != nil {
					b.Fatal(err)
				}
				bw.Reset(io.Discard)
			}
		})
	}
}

func benchEndpoint(heads bool) (*provider.Endpoint, *provider.Request) {
	base := "http://127.0.0.1:31901/v1"
	d := &provider.Endpoint{Config: &config.Deployment{UpstreamModel: "gpt-4o"}, URI: ChatURL(base), Host: "127.0.0.1:31901",
		QuotedModel: []byte(`"gpt-4o"`), Auth: []byte("Bearer sk-up")}
	d.URIs[provider.RouteChat] = d.URI
	d.InitRouteURIs(base)
	if heads {
		d.InitRequestHeads(provider.RoutesChatOnly)
	}
	body := []byte(`{"model":"m","messages":[{"role":"user","content":"What is the weather in Paris today?"}]}`)
	i := bytes.Index(body, []byte(`"m"`))
	return d, &provider.Request{Body: body, ModelStart: i, ModelEnd: i + 3, RequestID: []byte("llmedge-0123abcd-1f")}
}
