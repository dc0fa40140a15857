package server

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/tracing"
	"github.com/llmedge/llmedge/internal/tracing/tracingtest"
	"github.com/llmedge/llmedge/upstream"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// pricedUpstream is a fake OpenAI upstream: status 503 when failing,
// else a chat completion (or stream) whose usage has cached and
// reasoning tokens. It records the traceparent of every request.
type pricedUpstream struct {
	fail bool
	mu   sync.Mutex
	seen []string
}

func (u *pricedUpstream) traceparents() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.seen...)
}

func (u *pricedUpstream) start(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.seen = append(u.seen, r.Header.Get("traceparent"))
		u.mu.Unlock()
		if u.fail {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(503)
			fmt.Fprint(w, `{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}`)
			return
		}
		usage := `{"prompt_tokens":1000,"completion_tokens":100,"total_tokens":1100,"prompt_tokens_details":{"cached_tokens":400},"completion_tokens_details":{"reasoning_tokens":0}}`
		if strings.Contains(string(body), `"stream":true`) {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"},"finish_reason":null}]}`+"\n\n")
			w.(http.Flusher).Flush()
			time.Sleep(streamGap) // the stream lasts at least this long (not synchronisation)
			fmt.Fprint(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`+"\n\n")
			fmt.Fprint(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[],"usage":`+usage+"}\n\ndata: [DONE]\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":`+usage+`}`)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String() + "/v1"
}

// streamGap separates a fake stream's first event from its last.
const streamGap = 100 * time.Millisecond

// gpt-4o at the built-in table's prices, 400 of 1000 prompt tokens cached.
const wantCost = 600*2.5e-06 + 400*1.25e-06 + 100*1e-05

func startTracedGateway(t *testing.T, recv *tracingtest.Receiver, deps ...*config.Deployment) *gateway {
	t.Helper()
	return startTracedGatewayWith(t, recv, tracing.Options{}, nil, deps...)
}

// startTracedGatewayWith is startTracedGateway with o's NoContent and
// more OTEL_* variables.
func startTracedGatewayWith(t *testing.T, recv *tracingtest.Receiver, o tracing.Options, env map[string]string, deps ...*config.Deployment) *gateway {
	t.Helper()
	vars := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": recv.Endpoint, "OTEL_BSP_SCHEDULE_DELAY": "20"}
	for k, v := range env {
		vars[k] = v
	}
	o.Version = "test"
	o.LookupEnv = func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	tr, err := tracing.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	cfg := testConfig(deps...)
	reg, err := upstream.NewRegistry(cfg, upstream.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	srv := New(cfg, reg, Options{ObserveOptions: ObserveOptions{Tracer: tr}})
	return &gateway{srv: srv, reg: reg, addr: strings.TrimPrefix(serveOnLoopback(t, srv), "http://")}
}

func spanNamed(spans []tracingtest.Span, kind tracepb.Span_SpanKind) []tracingtest.Span {
	var out []tracingtest.Span
	for _, s := range spans {
		if s.Kind == kind {
			out = append(out, s)
		}
	}
	return out
}

// A failing deployment then a healthy one: the client's trace is
// continued, both attempts are spans under the server span, the failed
// one with error status and an exception event, each attempt's
// traceparent reached the upstream, and the server span carries the
// GenAI attributes and the cost.
func TestTracingAttemptsUnderClientTrace(t *testing.T) {
	recv := tracingtest.StartHTTP(t)
	bad, good := &pricedUpstream{fail: true}, &pricedUpstream{}
	g := startTracedGateway(t, recv,
		dep(0, "gpt-4o", "openai/gpt-4o", bad.start(t), "sk-up"),
		dep(1, "gpt-4o", "openai/gpt-4o", good.start(t), "sk-up"))
	const clientTrace, clientSpan = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
	// The router picks either deployment first; retry until the bad one
	// was tried first so that both attempts are seen.
	var resp *http.Response
	for i := 0; i < 20; i++ {
		req, _ := http.NewRequest("POST", g.url()+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+testMasterKey)
		req.Header.Set("traceparent", "00-"+clientTrace+"-"+clientSpan+"-01")
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
		if r.Header.Get("X-Llmedge-Attempts") == "2" {
			resp = r
			break
		}
	}
	if resp == nil {
		t.Fatal("the failing deployment was never tried first")
	}
	if got, _ := strconv.ParseFloat(resp.Header.Get("X-Llmedge-Response-Cost"), 64); !closeTo(got, wantCost) {
		t.Fatalf("x-llmedge-response-cost %q, want %v", resp.Header.Get("X-Llmedge-Response-Cost"), wantCost)
	}
	reqID := resp.Header.Get("X-Request-Id")
	spans := recv.WaitFor(t, 10*time.Second, "server span and two attempt spans", func(s []tracingtest.Span) bool {
		for _, sp := range s {
			if sp.Kind == tracepb.Span_SPAN_KIND_SERVER && sp.Attr("llmedge.request_id") == reqID {
				return true
			}
		}
		return false
	})
	var server tracingtest.Span
	for _, sp := range spanNamed(spans, tracepb.Span_SPAN_KIND_SERVER) {
		if sp.Attr("llmedge.request_id") == reqID {
			server = sp
		}
	}
	if server.TraceID() != clientTrace || server.ParentSpanID() != clientSpan {
		t.Fatalf("server span %s parent %s: client's trace not continued", server.TraceID(), server.ParentSpanID())
	}
	for k, want := range map[string]string{
		"gen_ai.operation.name": "chat", "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o",
		"gen_ai.response.model": "gpt-4o", "gen_ai.usage.input_tokens": "1000", "gen_ai.usage.output_tokens": "100",
		"gen_ai.usage.cache_read.input_tokens": "400", "gen_ai.response.finish_reasons": "stop",
		"llmedge.key_name": "master", "llmedge.attempts": "2", "http.response.status_code": "200",
	} {
		if got := server.Attr(k); got != want {
			t.Errorf("server span %s = %q, want %q", k, got, want)
		}
	}
	if c, _ := strconv.ParseFloat(server.Attr("llmedge.cost_usd"), 64); !closeTo(c, wantCost) || !server.Has("llmedge.time_to_first_token_ms") {
		t.Errorf("server span cost %q ttft present %v", server.Attr("llmedge.cost_usd"), server.Has("llmedge.time_to_first_token_ms"))
	}
	var attempts []tracingtest.Span
	for _, sp := range spanNamed(spans, tracepb.Span_SPAN_KIND_CLIENT) {
		if sp.TraceID() == clientTrace && sp.ParentSpanID() == server.SpanID() {
			attempts = append(attempts, sp)
		}
	}
	if len(attempts) != 2 {
		t.Fatalf("%d attempt spans under the server span, want 2", len(attempts))
	}
	failed, ok := attempts[0], attempts[1]
	if failed.Attr("llmedge.attempt") != "1" {
		failed, ok = ok, failed
	}
	if failed.Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR || failed.Attr("http.response.status_code") != "503" ||
		len(failed.Events) == 0 || failed.Events[0].Name != "exception" || failed.Attr("llmedge.deployment") != "gpt-4o-0" {
		t.Fatalf("failed attempt: status %v attrs %v events %v", failed.Status, failed.Attributes, failed.Events)
	}
	if ok.Status.GetCode() == tracepb.Status_STATUS_CODE_ERROR || ok.Attr("llmedge.retry") != "true" || ok.Attr("llmedge.deployment") != "gpt-4o-1" {
		t.Fatalf("answering attempt: status %v attrs %v", ok.Status, ok.Attributes)
	}
	// Each upstream saw its own attempt's span as parent.
	if tp := bad.traceparents(); len(tp) == 0 || tp[len(tp)-1] != "00-"+clientTrace+"-"+failed.SpanID()+"-01" {
		t.Fatalf("failing upstream saw traceparent %v, want the first attempt's %s", tp, failed.SpanID())
	}
	if tp := good.traceparents(); len(tp) == 0 || tp[len(tp)-1] != "00-"+clientTrace+"-"+ok.SpanID()+"-01" {
		t.Fatalf("answering upstream saw traceparent %v, want the second attempt's %s", tp, ok.SpanID())
	}
}

// A stream's spans end when the stream does, with its usage; the
// client is the openai-go SDK.
func TestTracingStreamSpanEndsWithStream(t *testing.T) {
	recv := tracingtest.StartHTTP(t)
	up := &pricedUpstream{}
	g := startTracedGateway(t, recv, dep(0, "gpt-4o", "openai/gpt-4o", up.start(t), "sk-up"))
	client := openai.NewClient(option.WithBaseURL(g.url()+"/v1"), option.WithAPIKey(testMasterKey), option.WithMaxRetries(0))
	params := userMsg("hi")
	params.Model = "gpt-4o"
	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	st := client.Chat.Completions.NewStreaming(context.Background(), params)
	var first time.Time
	for st.Next() {
		if first.IsZero() {
			first = time.Now()
		}
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	spans := recv.WaitFor(t, 10*time.Second, "stream spans", func(s []tracingtest.Span) bool {
		return len(spanNamed(s, tracepb.Span_SPAN_KIND_SERVER)) == 1 && len(spanNamed(s, tracepb.Span_SPAN_KIND_CLIENT)) == 1
	})
	server, attempt := spanNamed(spans, tracepb.Span_SPAN_KIND_SERVER)[0], spanNamed(spans, tracepb.Span_SPAN_KIND_CLIENT)[0]
	if server.Attr("gen_ai.request.stream") != "true" || server.Attr("gen_ai.usage.output_tokens") != "100" || server.Attr("gen_ai.usage.input_tokens") != "1000" {
		t.Fatalf("stream span attrs %v", server.Attributes)
	}
	if c, _ := strconv.ParseFloat(server.Attr("llmedge.cost_usd"), 64); !closeTo(c, wantCost) {
		t.Fatalf("stream span cost %q", server.Attr("llmedge.cost_usd"))
	}
	// The finish reason is the last chunk's ("finish_reason":null in the
	// first is skipped).
	if fr := server.Attr("gen_ai.response.finish_reasons"); fr != "stop" {
		t.Fatalf("stream span finish reasons %q, want stop", fr)
	}
	// Both spans outlive the first event: they end with the stream,
	// which lasts streamGap more.
	for _, sp := range []tracingtest.Span{server, attempt} {
		if end := time.Unix(0, int64(sp.EndTimeUnixNano)); !end.After(first) || time.Duration(sp.EndTimeUnixNano-sp.StartTimeUnixNano) < streamGap {
			t.Fatalf("span %q ended at %v (lasting %v), not with the stream (first event read at %v)", sp.Name, end,
				time.Duration(sp.EndTimeUnixNano-sp.StartTimeUnixNano), first)
		}
	}
	if attempt.ParentSpanID() != server.SpanID() {
		t.Fatalf("attempt span not under the server span")
	}
}

func closeTo(a, b float64) bool { d := a - b; return d < 1e-12 && d > -1e-12 }

// A /v1/messages stream (Anthropic events, translated from the chat
// deployment's stream) has its span's finish reasons from the events
// the client got: message_delta's stop_reason, not message_start's null.
func TestTracingMessagesStreamFinishReason(t *testing.T) {
	recv := tracingtest.StartHTTP(t)
	up := &pricedUpstream{}
	g := startTracedGateway(t, recv, dep(0, "claude-x", "openai/gpt-4o", up.start(t), "sk-up"))
	r := rawRequest(t, g, "POST", "/v1/messages",
		`{"model":"claude-x","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"`+promptText+`"}]}`,
		"x-api-key: "+testMasterKey, "anthropic-version: 2023-06-01")
	if r.StatusCode != 200 || !strings.Contains(r.Body, `"stop_reason":"end_turn"`) {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	spans := recv.WaitFor(t, 10*time.Second, "messages stream span", func(s []tracingtest.Span) bool {
		return len(spanNamed(s, tracepb.Span_SPAN_KIND_SERVER)) == 1
	})
	server := spanNamed(spans, tracepb.Span_SPAN_KIND_SERVER)[0]
	if fr := server.Attr("gen_ai.response.finish_reasons"); fr != "end_turn" {
		t.Fatalf("messages stream finish reasons %q, want end_turn; attrs %v", fr, server.Attributes)
	}
	// No message text by default: neither the prompt nor a message or
	// completion attribute on any span.
	for _, sp := range spans {
		if strings.Contains(sp.String(), promptText) {
			t.Fatalf("span %q carries the prompt text: %v", sp.Name, sp.Span)
		}
		for _, a := range sp.Attributes {
			if k := a.Key; strings.Contains(k, "message") || strings.Contains(k, "prompt") || strings.Contains(k, "completion") {
				t.Fatalf("span %q has message attribute %s", sp.Name, k)
			}
		}
	}
}

// promptText is a prompt no span may carry while no setting asks for
// message text.
const promptText = "llmedge-prompt-text-7f3a"

// Message text goes on the server span only when
// OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true asks for it,
// and litellm_settings.turn_off_message_logging (NoContent) wins.
func TestTracingCaptureMessageContent(t *testing.T) {
	const capture = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
	for _, c := range []struct {
		name string
		env  map[string]string
		no   bool
		want bool
	}{
		{"default", nil, false, false},
		{"capture", map[string]string{capture: "true"}, false, true},
		{"turned off", map[string]string{capture: "true"}, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			recv := tracingtest.StartHTTP(t)
			up := &pricedUpstream{}
			g := startTracedGatewayWith(t, recv, tracing.Options{NoContent: c.no}, c.env, dep(0, "gpt-4o", "openai/gpt-4o", up.start(t), "sk-up"))
			r := rawRequest(t, g, "POST", "/v1/chat/completions",
				`{"model":"gpt-4o","messages":[{"role":"user","content":"`+promptText+`"}]}`,
				"Authorization: Bearer "+testMasterKey, "Content-Type: application/json")
			if r.StatusCode != 200 {
				t.Fatalf("%d %s", r.StatusCode, r.Body)
			}
			spans := recv.WaitFor(t, 10*time.Second, "server span", func(s []tracingtest.Span) bool {
				return len(spanNamed(s, tracepb.Span_SPAN_KIND_SERVER)) == 1
			})
			server := spanNamed(spans, tracepb.Span_SPAN_KIND_SERVER)[0]
			req, resp := server.Attr("llmedge.request.body"), server.Attr("llmedge.response.body")
			if !c.want {
				for _, sp := range spans {
					if strings.Contains(sp.String(), promptText) || sp.Has("llmedge.request.body") || sp.Has("llmedge.response.body") {
						t.Fatalf("span %q carries message text: %v", sp.Name, sp.Span)
					}
				}
				return
			}
			if !strings.Contains(req, promptText) || !strings.Contains(resp, `"content":"hi"`) {
				t.Fatalf("request body %q, response body %q", req, resp)
			}
		})
	}
}
