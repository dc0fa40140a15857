package tracing

import (
	"context"
	"os"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Tracer is llmedge's tracer: an OTLP exporter behind a batch span
// processor, and the W3C trace-context propagator. A nil *Tracer is
// tracing off.
type Tracer struct {
	tp   *sdktrace.TracerProvider
	tr   trace.Tracer
	prop propagation.TextMapPropagator
	// Protocol is the OTLP transport in use.
	Protocol string
	// CaptureContent: request and answer bodies go on server spans
	// (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true and not
	// Options.NoContent). Off by default.
	CaptureContent bool
}

// Options are New's.
type Options struct {
	// Version is llmedge's, set as service.version.
	Version string
	// LookupEnv reads the OTEL_* variables (nil: os.LookupEnv).
	LookupEnv func(string) (string, bool)
	// NoContent keeps message text off spans whatever the environment
	// says (litellm_settings.turn_off_message_logging).
	NoContent bool
}

// New builds the tracer from the standard OTEL_* variables:
// OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, _PROTOCOL (http/protobuf, the
// default, or grpc), _HEADERS, _TIMEOUT, _COMPRESSION, _INSECURE and
// the certificate variables (read by the exporters), OTEL_SERVICE_NAME
// and OTEL_RESOURCE_ATTRIBUTES (default service.name "llmedge"),
// OTEL_TRACES_SAMPLER[_ARG] and OTEL_BSP_*. It does not connect: spans
// are exported in the background, and an unreachable collector costs
// dropped spans, never requests.
func New(ctx context.Context, o Options) (*Tracer, error) {
	e := env(o.LookupEnv)
	if o.LookupEnv == nil {
		e = os.LookupEnv
	}
	proto, err := e.protocol()
	if err != nil {
		return nil, err
	}
	sampler, err := e.sampler()
	if err != nil {
		return nil, err
	}
	bsp, err := e.batchOptions()
	if err != nil {
		return nil, err
	}
	content, err := e.captureContent()
	if err != nil {
		return nil, err
	}
	exp, err := newExporter(ctx, e, proto)
	if err != nil {
		return nil, err
	}
	res, err := resourceFrom(e, o.Version)
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, bsp...),
		sdktrace.WithSampler(sampler),
		sdktrace.WithResource(res),
	)
	return &Tracer{
		tp:             tp,
		tr:             tp.Tracer("github.com/llmedge/llmedge"),
		prop:           propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		Protocol:       proto,
		CaptureContent: content && !o.NoContent,
	}, nil
}

// Shutdown exports the spans still queued and stops the exporter.
func (t *Tracer) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.tp.Shutdown(ctx)
}

// ForceFlush exports the spans queued so far.
func (t *Tracer) ForceFlush(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.tp.ForceFlush(ctx)
}

// Extract returns ctx carrying the trace context of carrier (a client's
// traceparent / tracestate).
func (t *Tracer) Extract(ctx context.Context, c propagation.TextMapCarrier) context.Context {
	return t.prop.Extract(ctx, c)
}

// Inject writes ctx's span as traceparent / tracestate into c.
func (t *Tracer) Inject(ctx context.Context, c propagation.TextMapCarrier) {
	t.prop.Inject(ctx, c)
}

// Start starts a span (trace.Tracer.Start).
func (t *Tracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	return t.tr.Start(ctx, name, opts...)
}
