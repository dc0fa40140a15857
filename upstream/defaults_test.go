package upstream

import (
	"net"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

func TestMergeDefaults(t *testing.T) {
	defs := []config.BodyDefault{{Key: "max_tokens", Value: []byte("100"), Alias: "max_completion_tokens"}, {Key: "stop", Value: []byte(`["\n"]`)}, {Key: "temperature", Value: []byte("0.2")}}
	cases := []struct{ body, want string }{
		// max_completion_tokens is max_tokens by another name: OpenAI
		// refuses both in one request.
		{`{"model":"m","max_completion_tokens":5}`, `{"stop":["\n"],"temperature":0.2,"model":"m","max_completion_tokens":5}`},
		{`{"model":"m","messages":[]}`, `{"max_tokens":100,"stop":["\n"],"temperature":0.2,"model":"m","messages":[]}`},
		// The client's own value wins; a nested key of the same name is not the client's.
		{`{"model":"m","temperature":1,"response_format":{"max_tokens":5}}`, `{"max_tokens":100,"stop":["\n"],"model":"m","temperature":1,"response_format":{"max_tokens":5}}`},
		{` { "temperature" : 1 , "max_tokens":3, "stop":null }`, ` { "temperature" : 1 , "max_tokens":3, "stop":null }`},
		{`{}`, `{"max_tokens":100,"stop":["\n"],"temperature":0.2}`},
		{"{\n}", "{\"max_tokens\":100,\"stop\":[\"\\n\"],\"temperature\":0.2\n}"},
		{`[1]`, `[1]`},
		{`{"model":"m`, `{"model":"m`},
	}
	for _, c := range cases {
		got, delta := mergeDefaults(nil, []byte(c.body), defs)
		if delta == 0 {
			got = []byte(c.body)
		}
		if string(got) != c.want || delta != len(c.want)-len(c.body) {
			t.Errorf("%s:\n got %s (delta %d)\nwant %s", c.body, got, delta, c.want)
		}
	}
}

// benchDefaultsRegistry is benchRegistry with request defaults on the
// deployment (the body the upstream sees is checked once).
func benchDefaultsRegistry(b *testing.B, defs []config.BodyDefault) (*Registry, *Group, *[]byte) {
	ln := fasthttputil.NewInmemoryListener()
	var seen []byte
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if seen == nil {
			seen = append([]byte{}, ctx.PostBody()...)
		}
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"id":"c","object":"chat.completion","choices":[],"usage":{"prompt_tokens":8,"completion_tokens":1,"total_tokens":9}}`)
	}}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = ln.Close() })
	cfg := &config.Config{Deployments: []*config.Deployment{{ModelName: "m", ID: "m-0", Model: "openai/up", Provider: "openai", UpstreamModel: "up", APIBase: "http://upstream/v1", APIKey: "k", Defaults: defs}}}
	reg, err := NewRegistry(cfg, Options{Pool: PoolSettings{Dial: func(string) (net.Conn, error) { return ln.Dial() }}})
	if err != nil {
		b.Fatal(err)
	}
	return reg, reg.Lookup([]byte("m")), &seen
}

// BenchmarkRequestDefaults: a pass-through chat call without and with
// litellm_params request defaults (three of them, one set by the client).
func BenchmarkRequestDefaults(b *testing.B) {
	body := `{"model":"m","temperature":1,"messages":[{"role":"user","content":"The food was delicious and the waiter..."}]}`
	i := strings.Index(body, `"m"`)
	for _, c := range []struct {
		name string
		defs []config.BodyDefault
		want string
	}{
		{"none", nil, `{"model":"up","temperature":1`},
		{"three", []config.BodyDefault{{Key: "max_tokens", Value: []byte("100")}, {Key: "seed", Value: []byte("7")}, {Key: "temperature", Value: []byte("0.2")}}, `{"max_tokens":100,"seed":7,"model":"up","temperature":1`},
	} {
		b.Run(c.name, func(b *testing.B) {
			reg, g, seen := benchDefaultsRegistry(b, c.defs)
			req := &ChatRequest{Body: []byte(body), ModelStart: i, ModelEnd: i + 3, Model: []byte("m"), Cancel: &Cancel{}}
			b.ReportAllocs()
			for n := 0; n < b.N; n++ {
				out := AcquireResponse()
				if err := reg.Chat(g, req, out); err != nil {
					b.Fatal(err)
				}
				ReleaseResponse(out)
			}
			b.StopTimer()
			if !strings.HasPrefix(string(*seen), c.want) {
				b.Fatalf("upstream body %s, want prefix %s", *seen, c.want)
			}
		})
	}
}

// BenchmarkMergeDefaults is the merge alone: the CPU a deployment with
// request defaults adds per request.
func BenchmarkMergeDefaults(b *testing.B) {
	body := []byte(`{"model":"m","temperature":1,"messages":[{"role":"user","content":"The food was delicious and the waiter..."}]}`)
	defs := []config.BodyDefault{{Key: "max_tokens", Value: []byte("100")}, {Key: "seed", Value: []byte("7")}, {Key: "temperature", Value: []byte("0.2")}}
	var dst []byte
	b.ReportAllocs()
	for n := 0; n < b.N; n++ {
		dst, _ = mergeDefaults(dst[:0], body, defs)
	}
}
