package upstream

import (
	"net"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/allocs"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// benchRegistry is a registry whose one deployment is an in-memory
// fasthttp server answering every route with a small JSON body.
func benchRegistry(b testing.TB) (*Registry, *Group) {
	ln := fasthttputil.NewInmemoryListener()
	answer := []byte(`{"object":"list","data":[{"object":"embedding","embedding":[0.1,0.2],"index":0}],"model":"m","usage":{"prompt_tokens":8,"total_tokens":8}}`)
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		ctx.SetBody(answer)
	}}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = ln.Close() })
	cfg := &config.Config{Deployments: []*config.Deployment{{ModelName: "m", ID: "m-0", Model: "openai/up", Provider: "openai", UpstreamModel: "up", APIBase: "http://upstream/v1", APIKey: "k"}}}
	reg, err := NewRegistry(cfg, Options{Pool: PoolSettings{Dial: func(string) (net.Conn, error) { return ln.Dial() }}})
	if err != nil {
		b.Fatal(err)
	}
	return reg, reg.Lookup([]byte("m"))
}

// BenchmarkPassThroughRoute: one non-stream pass-through call per op,
// upstream included (in memory), for the chat route and a new one.
func BenchmarkPassThroughRoute(b *testing.B) {
	reg, g := benchRegistry(b)
	body := `{"model":"m","input":"The food was delicious and the waiter...","messages":[{"role":"user","content":"hi"}]}`
	i := strings.Index(body, `"m"`)
	for _, rt := range []Route{RouteChat, RouteEmbeddings} {
		b.Run(strings.ReplaceAll(rt.String(), " ", "_"), func(b *testing.B) {
			req := &ChatRequest{Body: []byte(body), ModelStart: i, ModelEnd: i + 3, Model: []byte("m"), Route: rt, Cancel: &Cancel{}}
			b.ReportAllocs()
			for n := 0; n < b.N; n++ {
				out := AcquireResponse()
				if err := reg.Chat(g, req, out); err != nil {
					b.Fatal(err)
				}
				ReleaseResponse(out)
			}
		})
	}
}

// A pass-through call allocates nothing on llmedge's side of the hop,
// the pooled Response included.
func TestPassThroughRouteAllocs(t *testing.T) {
	reg, g := benchRegistry(t)
	body := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
	i := strings.Index(body, `"m"`)
	req := &ChatRequest{Body: []byte(body), ModelStart: i, ModelEnd: i + 3, Model: []byte("m"), Route: RouteChat, Cancel: &Cancel{}}
	allocs.None(t, "a pass-through chat call", 300, func() {
		out := AcquireResponse()
		if err := reg.Chat(g, req, out); err != nil {
			t.Fatal(err)
		}
		ReleaseResponse(out)
	})
}
