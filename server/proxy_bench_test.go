package server

import (
	"bufio"
	"net"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"

	"github.com/llmedge/llmedge/internal/allocs"
	"github.com/llmedge/llmedge/server/request"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// benchChunks alternate: a model streaming one chunk over and over is
// cut by the repeated-chunk guard (REPEATED_STREAMING_CHUNK_LIMIT).
var benchChunks = [2][]byte{
	[]byte(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hello "},"finish_reason":null}]}` + "\n\n"),
	[]byte(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"world "},"finish_reason":null}]}` + "\n\n"),
}

var benchAnswer = []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there."},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}`)

// inMemoryStack is client -> llmedge -> upstream, all over in-memory
// listeners, so a benchmark measures llmedge and fasthttp only.
type inMemoryStack struct {
	client *fasthttp.HostClient
	close  func()
}

func newInMemoryStack(tb testing.TB, events int, mut ...func(*config.Config)) *inMemoryStack {
	return newInMemoryStackOpts(tb, events, Options{}, mut...)
}

func newInMemoryStackOpts(tb testing.TB, events int, opts Options, mut ...func(*config.Config)) *inMemoryStack {
	upLn := fasthttputil.NewInmemoryListener()
	up := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if !ctx.IsPost() {
			return
		}
		var f request.Fields
		_ = request.ScanChat(ctx.PostBody(), &f)
		if !f.Stream {
			ctx.SetContentType("application/json")
			ctx.SetBody(benchAnswer)
			return
		}
		ctx.SetContentType("text/event-stream")
		ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
			for i := 0; i < events; i++ {
				_, _ = w.Write(benchChunks[i%2])
				_ = w.Flush()
			}
			_, _ = w.WriteString("data: [DONE]\n\n")
			_ = w.Flush()
		})
	}}
	go func() { _ = up.Serve(upLn) }()

	d := dep(0, "m", "openai/up-m", "http://upstream.local/v1", "sk-up")
	cfg := testConfig(d)
	for _, f := range mut {
		f(cfg)
	}
	reg, err := upstream.NewRegistry(cfg, upstream.Options{Pool: upstream.PoolSettings{Dial: func(string) (net.Conn, error) { return upLn.Dial() }}})
	if err != nil {
		tb.Fatal(err)
	}
	srv := New(cfg, reg, opts)
	ln := fasthttputil.NewInmemoryListener()
	go func() { _ = srv.Serve(ln) }()
	client := &fasthttp.HostClient{Addr: "llmedge.local", Dial: func(string) (net.Conn, error) { return ln.Dial() }, MaxConns: 1024}
	return &inMemoryStack{client: client, close: func() { _ = ln.Close(); _ = upLn.Close() }}
}

func benchProxy(b *testing.B, stream bool, events int, mut ...func(*config.Config)) {
	do := proxiedRequest(b, stream, events, mut...)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		do()
	}
	if stream {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*(events+1)), "ns/event")
	}
}

// proxiedRequest is one chat request through llmedge over an
// in-memory stack (a stream of events events when stream), checked for
// a 200; the stack closes when tb ends.
func proxiedRequest(tb testing.TB, stream bool, events int, mut ...func(*config.Config)) func() {
	st := newInMemoryStack(tb, events, mut...)
	tb.Cleanup(st.close)
	body := []byte(`{"messages":[{"role":"user","content":"What is the weather in Paris today?"}],"model":"m","temperature":0.2}`)
	if stream {
		body = []byte(`{"messages":[{"role":"user","content":"What is the weather in Paris today?"}],"model":"m","stream":true}`)
	}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	req.SetRequestURI("http://llmedge.local/v1/chat/completions")
	req.Header.SetMethod("POST")
	req.Header.Set("Authorization", "Bearer "+testMasterKey)
	req.SetBody(body)
	return func() {
		if err := st.client.Do(req, resp); err != nil {
			tb.Fatal(err)
		}
		if resp.StatusCode() != 200 {
			tb.Fatalf("status %d: %s", resp.StatusCode(), resp.Body())
		}
	}
}

// A proxied request allocates once (fasthttp's 1-byte wait for a
// kept-alive connection's next request); llmedge's own path, metrics
// and keys and three limiter scopes included, allocates nothing (README
// "Performance").
func TestProxiedRequestAllocs(t *testing.T) {
	allocs.AtMost(t, 1, "a proxied non-stream request", 300, proxiedRequest(t, false, 0))
	allocs.AtMost(t, 1, "a proxied non-stream request with keys and limits", 300, proxiedRequest(t, false, 0, withLimits))
}

// A stream's events are relayed without allocating: a stream of 256
// events allocates what one of 16 does (README "Performance": SSE
// pass-through, 0 allocs per event).
func TestStreamEventAllocs(t *testing.T) {
	short := testing.AllocsPerRun(50, proxiedRequest(t, true, 16))
	t.Logf("a stream of 16 events allocates %v times", short)
	allocs.AtMost(t, short+1, "a stream of 256 events", 50, proxiedRequest(t, true, 256))
}

// BenchmarkProxyNonStream is one full non-stream request through
// llmedge: client and upstream are in memory.
func BenchmarkProxyNonStream(b *testing.B) { benchProxy(b, false, 0) }

// BenchmarkProxyStream64 is one stream of 64 events through llmedge.
func BenchmarkProxyStream64(b *testing.B) { benchProxy(b, true, 64) }

// BenchmarkDirectNonStream is the same client and upstream without
// llmedge: the baseline for the ratio.
func BenchmarkDirectNonStream(b *testing.B) {
	upLn := benchJSONUpstream(b)
	client := &fasthttp.HostClient{Addr: "up.local", Dial: func(string) (net.Conn, error) { return upLn.Dial() }}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	req.SetRequestURI("http://up.local/v1/chat/completions")
	req.Header.SetMethod("POST")
	req.SetBody([]byte(`{"messages":[{"role":"user","content":"What is the weather in Paris today?"}],"model":"m","temperature":0.2}`))
	b.ReportAllocs()
	for b.Loop() {
		if err := client.Do(req, resp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareProxyNonStream is the same client and upstream with the
// thinnest fasthttp reverse proxy between them (the perf yardstick's
// "bare" target): what a proxy hop costs before llmedge does anything.
// BenchmarkProxyNonStream over this is llmedge's own share.
func BenchmarkBareProxyNonStream(b *testing.B) {
	upLn := benchJSONUpstream(b)
	hc := &fasthttp.HostClient{Addr: "up.local", Dial: func(string) (net.Conn, error) { return upLn.Dial() },
		StreamResponseBody: true, NoDefaultUserAgentHeader: true, DisableHeaderNamesNormalizing: true, DisablePathNormalizing: true}
	proxyLn := fasthttputil.NewInmemoryListener()
	proxy := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if err := hc.Do(&ctx.Request, &ctx.Response); err != nil {
			ctx.Error(err.Error(), fasthttp.StatusBadGateway)
		}
	}, NoDefaultServerHeader: true, NoDefaultContentType: true, NoDefaultDate: true, DisableHeaderNamesNormalizing: true}
	go func() { _ = proxy.Serve(proxyLn) }()
	defer proxyLn.Close()
	client := &fasthttp.HostClient{Addr: "bare.local", Dial: func(string) (net.Conn, error) { return proxyLn.Dial() }}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	req.SetRequestURI("http://bare.local/v1/chat/completions")
	req.Header.SetMethod("POST")
	req.Header.Set("Authorization", "Bearer "+testMasterKey)
	req.SetBody([]byte(`{"messages":[{"role":"user","content":"What is the weather in Paris today?"}],"model":"m","temperature":0.2}`))
	b.ReportAllocs()
	for b.Loop() {
		if err := client.Do(req, resp); err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode() != 200 {
			b.Fatalf("status %d", resp.StatusCode())
		}
	}
}

// benchJSONUpstream serves benchAnswer to every request, in memory,
// until the benchmark ends.
func benchJSONUpstream(b *testing.B) *fasthttputil.InmemoryListener {
	ln := fasthttputil.NewInmemoryListener()
	up := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		ctx.SetBody(benchAnswer)
	}}
	go func() { _ = up.Serve(ln) }()
	b.Cleanup(func() { _ = ln.Close() })
	return ln
}

// BenchmarkProxyNonStream64K is BenchmarkProxyNonStream with a 64 KiB
// body: over 16 KiB, it is admitted from its headers before it is read
// (bodyadmit.go: key check, bytes in flight).
func BenchmarkProxyNonStream64K(b *testing.B) {
	st := newInMemoryStack(b, 0)
	defer st.close()
	body := []byte(`{"messages":[{"role":"user","content":"` + strings.Repeat("a", 64<<10) + `"}],"model":"m"}`)
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	req.SetRequestURI("http://llmedge.local/v1/chat/completions")
	req.Header.SetMethod("POST")
	req.Header.Set("Authorization", "Bearer "+testMasterKey)
	req.SetBody(body)
	b.ReportAllocs()
	for b.Loop() {
		if err := st.client.Do(req, resp); err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode() != 200 {
			b.Fatalf("status %d: %s", resp.StatusCode(), resp.Body())
		}
	}
}
