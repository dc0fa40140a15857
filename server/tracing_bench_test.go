package server

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/llmedge/llmedge/internal/tracing"
	"github.com/llmedge/llmedge/internal/tracing/tracingtest"
	"github.com/valyala/fasthttp"
)

// BenchmarkTracingOverhead: a whole proxied request (in-memory client
// and upstream, as BenchmarkObserveOverhead) with tracing off and on
// (every span sampled and exported over OTLP/HTTP to a receiver on
// loopback), same run:
//
//	go test -run '^$' -bench TracingOverhead -benchmem -count 5 ./server
func BenchmarkTracingOverhead(b *testing.B) {
	recv := tracingtest.StartHTTP(b)
	tr, err := tracing.New(context.Background(), tracing.Options{LookupEnv: func(k string) (string, bool) {
		if k == "OTEL_EXPORTER_OTLP_ENDPOINT" {
			return recv.Endpoint, true
		}
		return "", false
	}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	for _, body := range []struct{ name, body string }{
		{"json", `{"model":"gpt-4o","messages":[{"role":"user","content":"Say hello"}]}`},
		{"stream", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Say hello"}]}`},
	} {
		for _, m := range []struct {
			name   string
			tracer *tracing.Tracer
		}{{"off", nil}, {"on", tr}} {
			b.Run(body.name+"/"+m.name, func(b *testing.B) {
				hc := benchGateway(b, Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), ObserveOptions: ObserveOptions{Tracer: m.tracer}})
				req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				req.SetRequestURI("http://llmedge.bench/v1/chat/completions")
				req.Header.SetMethod("POST")
				req.Header.Set("Authorization", "Bearer "+testMasterKey)
				req.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
				req.Header.SetContentType("application/json")
				req.SetBodyString(body.body)
				do := func() {
					if err := hc.Do(req, resp); err != nil {
						b.Fatal(err)
					}
					if resp.StatusCode() != 200 {
						b.Fatalf("status %d: %s", resp.StatusCode(), resp.Body())
					}
				}
				for i := 0; i < 50; i++ {
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
