package tracing

import (
	"fmt"
	"net/url"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
)

// resourceFrom is llmedge's resource: service.name "llmedge" and
// service.version, then OTEL_RESOURCE_ATTRIBUTES (key=value pairs,
// URL-encoded values), then OTEL_SERVICE_NAME, each winning over the
// one before, as the specification orders them.
func resourceFrom(e env, version string) (*resource.Resource, error) {
	attrs := map[string]string{"service.name": "llmedge"}
	if version != "" {
		attrs["service.version"] = version
	}
	if v := e.get("OTEL_RESOURCE_ATTRIBUTES"); v != "" {
		for i, kv := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(kv, "=")
			k = strings.TrimSpace(k)
			dec, err := url.PathUnescape(strings.TrimSpace(val))
			if !ok || k == "" || err != nil {
				return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: entry %d is not key=value with a URL-encoded value", i+1)
			}
			attrs[k] = dec
		}
	}
	if v := e.get("OTEL_SERVICE_NAME"); v != "" {
		attrs["service.name"] = v
	}
	kvs := make([]attribute.KeyValue, 0, len(attrs))
	for k, v := range attrs {
		kvs = append(kvs, attribute.String(k, v))
	}
	return resource.NewSchemaless(kvs...), nil
}
