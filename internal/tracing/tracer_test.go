package tracing_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/internal/tracing"
	"github.com/llmedge/llmedge/internal/tracing/tracingtest"
	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/trace"
)

func lookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestEnabledByLiteLLMCallbacks(t *testing.T) {
	for _, c := range []struct {
		callbacks, success []string
		want               bool
	}{
		{[]string{"otel"}, nil, true},
		{nil, []string{"langfuse", "OTEL"}, true},
		{[]string{"prometheus"}, []string{"langfuse"}, false},
		{nil, nil, false},
	} {
		if got := tracing.Enabled(c.callbacks, c.success); got != c.want {
			t.Errorf("%v %v: %v, want %v", c.callbacks, c.success, got, c.want)
		}
	}
}

func TestNewRejectsBadVariablesNamingThem(t *testing.T) {
	for name, val := range map[string]string{
		"OTEL_EXPORTER_OTLP_PROTOCOL":                        "http/json",
		"OTEL_TRACES_SAMPLER":                                "sometimes",
		"OTEL_BSP_SCHEDULE_DELAY":                            "soon",
		"OTEL_BSP_MAX_QUEUE_SIZE":                            "-4",
		"OTEL_EXPORTER_OTLP_HEADERS":                         "authorization",
		"OTEL_EXPORTER_OTLP_TRACES_HEADERS":                  "=secret",
		"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "yes",
	} {
		_, err := tracing.New(context.Background(), tracing.Options{LookupEnv: lookup(map[string]string{name: val})})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: error %v, want one naming the variable", name, val, err)
		}
		if err != nil && strings.Contains(name, "HEADERS") && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error shows the value: %v", name, err)
		}
	}
	_, err := tracing.New(context.Background(), tracing.Options{LookupEnv: lookup(map[string]string{
		"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"})})
	if err == nil || !strings.Contains(err.Error(), "OTEL_TRACES_SAMPLER_ARG") {
		t.Fatalf("ratio 2: %v", err)
	}
}

// export starts a span under a client's traceparent through a tracer
// configured by env, and returns what the receiver got.
func export(t *testing.T, r *tracingtest.Receiver, vars map[string]string) tracingtest.Span {
	t.Helper()
	tr, err := tracing.New(context.Background(), tracing.Options{Version: "test", LookupEnv: lookup(vars)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tr.Shutdown(context.Background()) }()
	var h fasthttp.RequestHeader
	h.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.Set("tracestate", "vendor=x")
	ctx := tr.Extract(context.Background(), tracing.RequestCarrier{H: &h})
	ctx, span := tr.Start(ctx, "chat gpt-4o", trace.WithSpanKind(trace.SpanKindServer))
	var out fasthttp.RequestHeader
	tr.Inject(ctx, tracing.RequestCarrier{H: &out})
	span.End()
	if got := string(out.Peek("traceparent")); !strings.HasPrefix(got, "00-4bf92f3577b34da6a3ce929d0e0e4736-") || strings.Contains(got, "00f067aa0ba902b7") {
		t.Fatalf("injected traceparent %q: want the trace id and this span's id", got)
	}
	if got := string(out.Peek("tracestate")); got != "vendor=x" {
		t.Fatalf("tracestate %q not carried on", got)
	}
	if err := tr.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := r.WaitFor(t, 10*time.Second, "exported span", func(s []tracingtest.Span) bool { return len(s) > 0 })
	return spans[0]
}

func TestExportOverHTTPProtobuf(t *testing.T) {
	r := tracingtest.StartHTTP(t)
	s := export(t, r, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": r.Endpoint,
		"OTEL_EXPORTER_OTLP_HEADERS":  "x-collector-token=abc",
		"OTEL_SERVICE_NAME":           "edge-1",
		"OTEL_BSP_SCHEDULE_DELAY":     "50",
	})
	if s.TraceID() != "4bf92f3577b34da6a3ce929d0e0e4736" || s.ParentSpanID() != "00f067aa0ba902b7" {
		t.Fatalf("span %s/%s parent %s: client's trace not continued", s.TraceID(), s.SpanID(), s.ParentSpanID())
	}
	if s.Resource["service.name"] != "edge-1" || s.Resource["service.version"] != "test" {
		t.Fatalf("resource %v", s.Resource)
	}
	if r.Header("x-collector-token") != "abc" {
		t.Fatalf("OTEL_EXPORTER_OTLP_HEADERS not sent")
	}
}

func TestExportOverGRPC(t *testing.T) {
	r := tracingtest.StartGRPC(t)
	s := export(t, r, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": r.Endpoint,
		"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
		"OTEL_EXPORTER_OTLP_INSECURE": "true",
	})
	if s.Name != "chat gpt-4o" || s.Resource["service.name"] != "llmedge" {
		t.Fatalf("span %q resource %v", s.Name, s.Resource)
	}
}

func TestSamplerAlwaysOffExportsNothingButPropagates(t *testing.T) {
	tr, err := tracing.New(context.Background(), tracing.Options{LookupEnv: lookup(map[string]string{"OTEL_TRACES_SAMPLER": "always_off"})})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tr.Shutdown(context.Background()) }()
	_, span := tr.Start(context.Background(), "x")
	if span.SpanContext().IsSampled() {
		t.Fatal("always_off sampled a span")
	}
	span.End()
}
