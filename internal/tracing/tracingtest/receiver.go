// Package tracingtest is an OTLP trace receiver for tests: it listens
// on loopback over OTLP/HTTP (protobuf) or gRPC, decodes what llmedge
// exports with the official OTLP protobuf types, and lets a test wait,
// with a deadline, for the spans it expects. It must not be imported
// by non-test code.
package tracingtest

import (
	"context"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Span is one received span with its resource's attributes.
type Span struct {
	*tracepb.Span
	Resource map[string]string
}

// TraceID and SpanID are hex, as in a traceparent header.
func (s Span) TraceID() string      { return hex.EncodeToString(s.Span.TraceId) }
func (s Span) SpanID() string       { return hex.EncodeToString(s.Span.SpanId) }
func (s Span) ParentSpanID() string { return hex.EncodeToString(s.Span.ParentSpanId) }

// Attr returns the attribute named k as a string ("" when absent);
// ints and bools are formatted, arrays joined with ",".
func (s Span) Attr(k string) string {
	for _, a := range s.Attributes {
		if a.Key == k {
			return valueString(a.Value)
		}
	}
	return ""
}

// Has reports whether the span has attribute k.
func (s Span) Has(k string) bool {
	for _, a := range s.Attributes {
		if a.Key == k {
			return true
		}
	}
	return false
}

func valueString(v *commonpb.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return itoa(x.IntValue)
	case *commonpb.AnyValue_BoolValue:
		if x.BoolValue {
			return "true"
		}
		return "false"
	case *commonpb.AnyValue_DoubleValue:
		return ftoa(x.DoubleValue)
	case *commonpb.AnyValue_ArrayValue:
		s := ""
		for i, e := range x.ArrayValue.Values {
			if i > 0 {
				s += ","
			}
			s += valueString(e)
		}
		return s
	}
	return ""
}

// Receiver collects exported spans.
type Receiver struct {
	// Endpoint is the base URL (OTLP/HTTP) or host:port (gRPC) to set
	// as OTEL_EXPORTER_OTLP_ENDPOINT.
	Endpoint string
	mu       sync.Mutex
	spans    []Span
	changed  chan struct{}
	// Headers are the request headers of the last OTLP/HTTP export.
	headers http.Header
}

func newReceiver() *Receiver { return &Receiver{changed: make(chan struct{})} }

func (r *Receiver) add(req *collectorpb.ExportTraceServiceRequest, h http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		res := map[string]string{}
		for _, a := range rs.GetResource().GetAttributes() {
			res[a.Key] = valueString(a.Value)
		}
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				r.spans = append(r.spans, Span{Span: sp, Resource: res})
			}
		}
	}
	if h != nil {
		r.headers = h
	}
	close(r.changed)
	r.changed = make(chan struct{})
}

// Header is a request header of the last OTLP/HTTP export.
func (r *Receiver) Header(k string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.headers.Get(k)
}

// Spans returns the spans received so far.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.spans...)
}

// WaitFor waits until match holds on the spans received, or fails the
// test at the deadline, listing what arrived.
func (r *Receiver) WaitFor(t testing.TB, d time.Duration, what string, match func([]Span) bool) []Span {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		spans, ch := append([]Span(nil), r.spans...), r.changed
		r.mu.Unlock()
		if match(spans) {
			return spans
		}
		select {
		case <-ch:
		case <-deadline.C:
			names := ""
			for _, s := range spans {
				names += " " + s.Name
			}
			t.Fatalf("no %s within %v; received spans:%s", what, d, names)
			return nil
		}
	}
}

// StartHTTP starts an OTLP/HTTP receiver on loopback, closed with the test.
func StartHTTP(t testing.TB) *Receiver {
	r := newReceiver()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, req *http.Request) {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var m collectorpb.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &m); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		r.add(&m, req.Header.Clone())
		out, _ := proto.Marshal(&collectorpb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	r.Endpoint = "http://" + ln.Addr().String()
	return r
}

type grpcService struct {
	collectorpb.UnimplementedTraceServiceServer
	r *Receiver
}

func (g grpcService) Export(_ context.Context, req *collectorpb.ExportTraceServiceRequest) (*collectorpb.ExportTraceServiceResponse, error) {
	g.r.add(req, nil)
	return &collectorpb.ExportTraceServiceResponse{}, nil
}

// StartGRPC starts an OTLP/gRPC receiver on loopback (plaintext),
// stopped with the test.
func StartGRPC(t testing.TB) *Receiver {
	r := newReceiver()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	collectorpb.RegisterTraceServiceServer(s, grpcService{r: r})
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(s.Stop)
	r.Endpoint = "http://" + ln.Addr().String()
	return r
}
