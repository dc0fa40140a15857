package tracing

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Protocols are the OTLP transports llmedge exports over
// (OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL).
const (
	ProtocolHTTP = "http/protobuf"
	ProtocolGRPC = "grpc"
)

// env reads one variable; lookup is os.LookupEnv in production.
type env func(string) (string, bool)

func (e env) get(name string) string {
	v, _ := e(name)
	return strings.TrimSpace(v)
}

// first is the first set variable of names (the signal-specific one
// before the general one) and its name.
func (e env) first(names ...string) (string, string) {
	for _, n := range names {
		if v := e.get(n); v != "" {
			return v, n
		}
	}
	return "", ""
}

// protocol reads the OTLP protocol; the default is http/protobuf, as
// the OpenTelemetry specification says.
func (e env) protocol() (string, error) {
	v, name := e.first("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
	switch v {
	case "", ProtocolHTTP:
		return ProtocolHTTP, nil
	case ProtocolGRPC:
		return ProtocolGRPC, nil
	}
	return "", fmt.Errorf("%s: %q is not supported (want %s or %s)", name, v, ProtocolHTTP, ProtocolGRPC)
}

// sampler reads OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG; the
// default is parentbased_always_on, as the specification says.
func (e env) sampler() (sdktrace.Sampler, error) {
	name := strings.ToLower(e.get("OTEL_TRACES_SAMPLER"))
	ratio := 1.0
	if a := e.get("OTEL_TRACES_SAMPLER_ARG"); a != "" && strings.HasSuffix(name, "traceidratio") {
		f, err := strconv.ParseFloat(a, 64)
		if err != nil || f < 0 || f > 1 {
			return nil, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG: %q is not a ratio between 0 and 1", a)
		}
		ratio = f
	}
	switch name {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(ratio), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio)), nil
	}
	return nil, fmt.Errorf("OTEL_TRACES_SAMPLER: %q is not supported (want always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio)", name)
}

// batchOptions reads OTEL_BSP_* (the SDK would ignore a bad value with
// a log line; llmedge refuses it).
func (e env) batchOptions() ([]sdktrace.BatchSpanProcessorOption, error) {
	var opts []sdktrace.BatchSpanProcessorOption
	for _, v := range []struct {
		name string
		ms   bool
		set  func(int) sdktrace.BatchSpanProcessorOption
	}{
		{"OTEL_BSP_SCHEDULE_DELAY", true, func(n int) sdktrace.BatchSpanProcessorOption {
			return sdktrace.WithBatchTimeout(time.Duration(n) * time.Millisecond)
		}},
		{"OTEL_BSP_EXPORT_TIMEOUT", true, func(n int) sdktrace.BatchSpanProcessorOption {
			return sdktrace.WithExportTimeout(time.Duration(n) * time.Millisecond)
		}},
		{"OTEL_BSP_MAX_QUEUE_SIZE", false, sdktrace.WithMaxQueueSize},
		{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", false, sdktrace.WithMaxExportBatchSize},
	} {
		s := e.get(v.name)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			unit := "a count"
			if v.ms {
				unit = "milliseconds"
			}
			return nil, fmt.Errorf("%s: %q is not a positive integer (%s)", v.name, s, unit)
		}
		opts = append(opts, v.set(n))
	}
	return opts, nil
}

// headers reads OTEL_EXPORTER_OTLP_HEADERS and the traces variant
// (which wins key by key): comma-separated key=value pairs, values
// URL-encoded. A malformed list is an error naming the variable, never
// printing its values (they are usually credentials).
func (e env) headers() (map[string]string, error) {
	out := map[string]string{}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"} {
		v := e.get(name)
		if v == "" {
			continue
		}
		for i, kv := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(kv, "=")
			k = strings.TrimSpace(k)
			dec, err := url.PathUnescape(strings.TrimSpace(val))
			if !ok || k == "" || err != nil {
				return nil, fmt.Errorf("%s: entry %d is not key=value with a URL-encoded value (value not shown)", name, i+1)
			}
			out[k] = dec
		}
	}
	return out, nil
}

// endpoint reads the collector's URL: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
// as is, else OTEL_EXPORTER_OTLP_ENDPOINT with /v1/traces appended for
// OTLP/HTTP (the specification's rule). "" leaves the exporter's
// default (localhost:4318 or :4317).
func (e env) endpoint(proto string) (string, error) {
	v, name := e.first("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%s: %q is not an http:// or https:// URL", name, v)
	}
	if proto == ProtocolHTTP && name == "OTEL_EXPORTER_OTLP_ENDPOINT" {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
	}
	return u.String(), nil
}

// timeout reads OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT (milliseconds).
func (e env) timeout() (time.Duration, error) {
	v, name := e.first("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s: %q is not a positive integer (milliseconds)", name, v)
	}
	return time.Duration(n) * time.Millisecond, nil
}

// gzip reads OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION: gzip or none.
func (e env) gzip() (bool, error) {
	v, name := e.first("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION")
	switch v {
	case "", "none":
		return false, nil
	case "gzip":
		return true, nil
	}
	return false, fmt.Errorf("%s: %q is not supported (want gzip or none)", name, v)
}

// captureContent reads OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT
// (the OpenTelemetry GenAI instrumentations' switch): message text is
// recorded only when it is "true"; the default is false.
func (e env) captureContent() (bool, error) {
	const name = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
	switch strings.ToLower(e.get(name)) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, fmt.Errorf("%s: %q is not true or false", name, e.get(name))
}
