package tracing

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
)

// newExporter builds the OTLP exporter for proto from the variables e
// reads (endpoint, headers, timeout, compression), passed explicitly so
// that they are validated once and a test can set them without the
// process environment. The certificate and _INSECURE variables are read
// by the exporter itself; an http:// endpoint is plaintext.
func newExporter(ctx context.Context, e env, proto string) (*otlptrace.Exporter, error) {
	endpoint, err := e.endpoint(proto)
	if err != nil {
		return nil, err
	}
	headers, err := e.headers()
	if err != nil {
		return nil, err
	}
	timeout, err := e.timeout()
	if err != nil {
		return nil, err
	}
	gz, err := e.gzip()
	if err != nil {
		return nil, err
	}
	var exp *otlptrace.Exporter
	if proto == ProtocolGRPC {
		opts := []otlptracegrpc.Option{otlptracegrpc.WithHeaders(headers)}
		if endpoint != "" {
			opts = append(opts, otlptracegrpc.WithEndpointURL(endpoint))
		}
		if timeout > 0 {
			opts = append(opts, otlptracegrpc.WithTimeout(timeout))
		}
		if gz {
			opts = append(opts, otlptracegrpc.WithCompressor("gzip"))
		}
		exp, err = otlptracegrpc.New(ctx, opts...)
	} else {
		opts := []otlptracehttp.Option{otlptracehttp.WithHeaders(headers)}
		if endpoint != "" {
			opts = append(opts, otlptracehttp.WithEndpointURL(endpoint))
		}
		if timeout > 0 {
			opts = append(opts, otlptracehttp.WithTimeout(timeout))
		}
		if gz {
			opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
		}
		exp, err = otlptracehttp.New(ctx, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("OTLP %s exporter: %w", proto, err)
	}
	return exp, nil
}
