// Package tracing owns llmedge's OpenTelemetry traces: whether they are
// on (LiteLLM's litellm_settings.callbacks / success_callback naming
// "otel"), the OTLP exporter and tracer provider built from the standard
// OTEL_* variables (validated: a bad value is an error naming the
// variable), W3C trace-context propagation over fasthttp headers, and
// the GenAI semantic-convention attribute keys.
//
// It must not decide what a request is or read bodies: the server
// starts the request span and the upstream router the attempt spans,
// with this package's helpers. When tracing is off nothing here runs.
package tracing
