package tracing

import "github.com/valyala/fasthttp"

// RequestCarrier reads a client's trace context from fasthttp request
// headers (propagation.TextMapCarrier).
type RequestCarrier struct{ H *fasthttp.RequestHeader }

// Get implements propagation.TextMapCarrier.
func (c RequestCarrier) Get(key string) string { return string(c.H.Peek(key)) }

// Set implements propagation.TextMapCarrier.
func (c RequestCarrier) Set(key, value string) { c.H.Set(key, value) }

// Keys implements propagation.TextMapCarrier.
func (c RequestCarrier) Keys() []string {
	var ks []string
	for k := range c.H.All() {
		ks = append(ks, string(k))
	}
	return ks
}
