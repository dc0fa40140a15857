package server

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/llmedge/llmedge/server/request"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

const (
	obsBenchJSON  = `{"id":"chatcmpl-b","object":"chat.completion","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there, how can I help you today?","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":10,"total_tokens":22}}`
	obsBenchChunk = `data: {"id":"chatcmpl-b","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"word "},"logprobs":null,"finish_reason":null}]}` + "\n\n"
)

// benchGateway is llmedge between an in-memory fasthttp client and an
// in-memory fasthttp upstream: only llmedge's own work and the loopback
// copies are measured.
func benchGateway(b *testing.B, opts Options) *fasthttp.HostClient {
	b.Helper()
	upLn := fasthttputil.NewInmemoryListener()
	up := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if fastStream(ctx.PostBody()) {
			ctx.SetContentType("text/event-stream")
			ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
				for i := 0; i < 8; i++ {
					_, _ = w.WriteString(obsBenchChunk)
					_ = w.Flush()
				}
				_, _ = w.WriteString("data: [DONE]\n\n")
			})
			return
		}
		ctx.SetContentType("application/json")
		ctx.SetBodyString(obsBenchJSON)
	}}
	go func() { _ = up.Serve(upLn) }()
	d := dep(0, "gpt-4o", "openai/gpt-4o", "http://upstream.bench/v1", "sk-bench")
	d.ModelInfo = map[string]any{"input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05}
	cfg := testConfig(d)
	opts.Registry.Pool.Dial = func(string) (net.Conn, error) { return upLn.Dial() }
	opts.Registry.LookupEnv = func(string) (string, bool) { return "", false }
	reg, err := upstream.NewRegistry(cfg, opts.Registry)
	if err != nil {
		b.Fatal(err)
	}
	srv := New(cfg, reg, opts)
	ln := fasthttputil.NewInmemoryListener()
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() {
		_ = srv.srv.Shutdown()
		_ = up.Shutdown()
	})
	return &fasthttp.HostClient{Addr: "llmedge.bench", Dial: func(string) (net.Conn, error) { return ln.Dial() },
		ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second}
}

func fastStream(body []byte) bool {
	var f request.Fields
	return request.ScanChat(body, &f) == nil && f.Stream
}

// BenchmarkObserveOverhead compares the chat hot path with metrics and
// access logging off, metrics on, and both on (log formatted as JSON to
// io.Discard: the formatting cost, not the terminal's).
//
//	go test -run '^$' -bench ObserveOverhead -benchmem -count 5 ./server
func BenchmarkObserveOverhead(b *testing.B) {
	modes := []struct {
		name string
		opts ObserveOptions
	}{
		{"bare", ObserveOptions{DisableMetrics: true}},
		{"metrics", ObserveOptions{}},
		{"metrics+accesslog", ObserveOptions{AccessLog: true}},
	}
	bodies := []struct{ name, body string }{
		{"json", `{"model":"gpt-4o","messages":[{"role":"user","content":"Say hello"}]}`},
		{"stream", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Say hello"}]}`},
	}
	for _, bd := range bodies {
		for _, m := range modes {
			b.Run(bd.name+"/"+m.name, func(b *testing.B) {
				opts := Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), ObserveOptions: m.opts}
				hc := benchGateway(b, opts)
				req := fasthttp.AcquireRequest()
				resp := fasthttp.AcquireResponse()
				req.SetRequestURI("http://llmedge.bench/v1/chat/completions")
				req.Header.SetMethod("POST")
				req.Header.Set("Authorization", "Bearer "+testMasterKey)
				req.Header.SetContentType("application/json")
				req.SetBodyString(bd.body)
				do := func() {
					if err := hc.Do(req, resp); err != nil {
						b.Fatal(err)
					}
					if resp.StatusCode() != 200 || len(resp.Body()) == 0 {
						b.Fatalf("status %d: %s", resp.StatusCode(), resp.Body())
					}
				}
				for i := 0; i < 50; i++ { // warm pools
					do()
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					do()
				}
			})
		}
	}
}
