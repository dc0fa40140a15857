package observe

// OpenTelemetry spans of proxied requests (tracing on: Options.Tracer).
// One server span per request continues the client's traceparent and
// ends with the answer (a stream's last event, in Finish); under it one
// client span per upstream attempt, retries and fallbacks included,
// whose traceparent goes upstream. Attributes follow the GenAI semantic
// conventions; message text is recorded only when the tracer asks for
// it (CaptureContent: request body, complete answer body). Tracing off: Call's
// trace stays zero and each hook is one nil check.

import (
	"bytes"
	"context"
	"strings"
	"time"

	"github.com/llmedge/llmedge/internal/tracing"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// callTrace is one call's spans; part of Call, zeroed when the call
// ends. It is the call's upstream.AttemptTracer.
type callTrace struct {
	t       *tracing.Tracer
	ctx     context.Context
	span    trace.Span
	op      string
	attempt trace.Span
	// attemptOpen: the answering attempt's span stays open while its
	// stream is relayed and ends with it.
	attemptOpen bool
	// finish collects a stream's finish reasons from its events
	// (StreamEvent).
	finish []string
}

// maxFinishReasons bounds what a stream's events may add to
// gen_ai.response.finish_reasons (one per choice; n is rarely above a
// few).
const maxFinishReasons = 64

// StreamEvent reads the finish reasons of a stream's events as they are
// relayed to the client (p: whole events in the client's format). Off
// when tracing is: one nil check, nothing read.
func (c *Call) StreamEvent(p []byte) {
	if c.trace.span == nil || len(c.trace.finish) >= maxFinishReasons {
		return
	}
	c.trace.finish = appendFinishReasons(c.trace.finish, p)
}

// Traced reports whether the call has a span (Trace started one).
func (c *Call) Traced() bool { return c.trace.span != nil }

// operation is gen_ai.operation.name for a route.
func operation(r upstream.Route, anthropic bool) string {
	switch {
	case anthropic || r == upstream.RouteChat:
		return "chat"
	case r == upstream.RouteCompletions:
		return "text_completion"
	case r == upstream.RouteEmbeddings:
		return "embeddings"
	}
	return "responses"
}

// genAISystem is gen_ai.system / gen_ai.provider.name for a provider
// prefix: the convention's well-known values, else the prefix.
func genAISystem(provider string) string {
	switch provider {
	case "bedrock":
		return "aws.bedrock"
	case "vertex_ai":
		return "gcp.vertex_ai"
	case "gemini":
		return "gcp.gemini"
	case "azure":
		return "azure.ai.openai"
	case "mistral":
		return "mistral_ai"
	case "xai":
		return "x_ai"
	}
	return provider
}

// Traced is what Trace needs to know of a call beside its Call: the
// route and API it came in on, the model it asked for, whether it
// asked for a stream, and its request id.
type Traced struct {
	Route     upstream.Route
	Anthropic bool
	Model     []byte
	Stream    bool
	ReqID     []byte
}

// Trace starts c's server span under the client's trace context when
// it sent one, and returns the tracer of its upstream attempts
// (ChatRequest.Tracer); nil when tracing is off. Call it after Begin.
func (r *Recorder) Trace(ctx *fasthttp.RequestCtx, c *Call, t Traced) upstream.AttemptTracer {
	tracer := r.opts.Tracer
	if tracer == nil {
		return nil
	}
	tr := &c.trace
	tr.t, tr.op = tracer, operation(t.Route, t.Anthropic)
	route := t.Route.String()
	if t.Anthropic {
		route = "POST /v1/messages"
	}
	parent := tracer.Extract(context.Background(), tracing.RequestCarrier{H: &ctx.Request.Header})
	tr.ctx, tr.span = tracer.Start(parent, tr.op+" "+c.group.Name,
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithTimestamp(c.start),
		trace.WithAttributes(
			tracing.GenAIOperationName.String(tr.op),
			tracing.GenAIRequestModel.String(string(t.Model)),
			tracing.GenAIRequestStream.Bool(t.Stream),
			tracing.LLMEdgeModelGroup.String(c.group.Name),
			tracing.LLMEdgeRequestID.String(string(t.ReqID)),
			tracing.HTTPRequestMethod.String(string(ctx.Method())),
			tracing.HTTPRoute.String(route),
		))
	if tracer.CaptureContent {
		tr.span.SetAttributes(tracing.LLMEdgeRequestBody.String(capped(ctx.Request.Body())))
	}
	return tr
}

// maxContent bounds a body recorded on a span (CaptureContent).
const maxContent = 64 << 10

// capped is b as a string, cut at maxContent bytes.
func capped(b []byte) string {
	if len(b) > maxContent {
		b = b[:maxContent]
	}
	return string(b)
}

// StartAttempt implements upstream.AttemptTracer.
func (tr *callTrace) StartAttempt(d *upstream.Endpoint, n int, retry bool) (string, string) {
	tr.endAttempt(nil)
	model := d.ModelName
	if d.Config != nil {
		model = d.Config.UpstreamModel
	}
	sys := genAISystem(d.Provider)
	ctx, span := tr.t.Start(tr.ctx, tr.op+" "+model,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			tracing.GenAIOperationName.String(tr.op),
			tracing.GenAISystem.String(sys),
			tracing.GenAIProviderName.String(sys),
			tracing.GenAIRequestModel.String(model),
			tracing.LLMEdgeDeployment.String(d.ID),
			tracing.LLMEdgeModelGroup.String(d.ModelName),
			tracing.LLMEdgeAttempt.Int(n),
			tracing.LLMEdgeRetry.Bool(retry),
		))
	tr.attempt = span
	var h traceHeaders
	tr.t.Inject(ctx, &h)
	return h.parent, h.state
}

// EndAttempt implements upstream.AttemptTracer.
func (tr *callTrace) EndAttempt(err *upstream.Error, stream bool) {
	if err == nil && stream {
		tr.attemptOpen = true
		return
	}
	tr.endAttempt(err)
}

// endAttempt ends the open attempt span, with the failure when there
// is one (its message names the deployment and the kind of failure,
// never a secret or upstream bytes).
func (tr *callTrace) endAttempt(err *upstream.Error) {
	span := tr.attempt
	if span == nil {
		return
	}
	tr.attempt, tr.attemptOpen = nil, false
	if err != nil {
		if err.Status > 0 {
			span.SetAttributes(tracing.HTTPResponseStatusCode.Int(err.Status))
		}
		span.SetAttributes(tracing.ErrorType.String(errorType(err)))
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Message)
	}
	span.End()
}

func errorType(err *upstream.Error) string {
	if err.Code != "" {
		return err.Code
	}
	if err.Type != "" {
		return err.Type
	}
	return "upstream_error"
}

// end finishes the call's spans: the answer's model, usage, cost and
// status, and the stream's failure when it was cut.
func (tr *callTrace) end(c *Call, resp *upstream.Response, out *Outcome) {
	span := tr.span
	var relayErr *upstream.Error
	if out.Err != nil && tr.attemptOpen {
		relayErr = &upstream.Error{Message: out.Err.Error(), Type: "stream_error"}
	}
	tr.endAttempt(relayErr)
	attrs := []attribute.KeyValue{
		tracing.HTTPResponseStatusCode.Int(c.status),
		tracing.LLMEdgeAttempts.Int(resp.Attempts),
	}
	if d := resp.Deployment; d != nil {
		sys := genAISystem(d.Provider)
		attrs = append(attrs, tracing.LLMEdgeDeployment.String(d.ID), tracing.GenAISystem.String(sys), tracing.GenAIProviderName.String(sys))
		if d.Config != nil {
			attrs = append(attrs, tracing.GenAIResponseModel.String(d.Config.UpstreamModel))
		}
	}
	if u := &resp.Usage; u.Reported {
		attrs = append(attrs, tracing.GenAIInputTokens.Int(u.PromptTokens), tracing.GenAIOutputTokens.Int(u.CompletionTokens))
		if u.CacheReadTokens > 0 {
			attrs = append(attrs, tracing.GenAICacheReadTokens.Int(u.CacheReadTokens))
		}
		if u.CacheWriteTokens > 0 {
			attrs = append(attrs, tracing.GenAICacheWriteTokens.Int(u.CacheWriteTokens))
		}
	}
	if c.cost > 0 {
		attrs = append(attrs, tracing.LLMEdgeCostUSD.Float64(c.cost))
	}
	if c.key != "" {
		attrs = append(attrs, tracing.LLMEdgeKeyName.String(c.key))
	}
	if len(out.UserID) > 0 {
		attrs = append(attrs, tracing.LLMEdgeUserID.String(string(out.UserID)))
	}
	if c.ttfb > 0 {
		attrs = append(attrs, tracing.LLMEdgeTimeToFirstToken.Float64(float64(c.ttfb.Microseconds())/1000))
	}
	fr := tr.finish
	if resp.Stream == nil {
		fr = appendFinishReasons(nil, resp.Body)
	}
	if len(fr) > 0 {
		attrs = append(attrs, tracing.GenAIFinishReasons.StringSlice(fr))
	}
	if tr.t.CaptureContent && resp.Stream == nil && len(resp.Body) > 0 {
		attrs = append(attrs, tracing.LLMEdgeResponseBody.String(capped(resp.Body)))
	}
	span.SetAttributes(attrs...)
	switch {
	case out.Err != nil:
		span.RecordError(out.Err)
		span.SetStatus(codes.Error, "stream cut: "+out.Err.Error())
	case c.status >= 500:
		span.SetStatus(codes.Error, fasthttp.StatusMessage(c.status))
	}
	span.End(trace.WithTimestamp(time.Now()))
	*tr = callTrace{}
}

// appendFinishReasons appends to out the "finish_reason" (chat,
// completions) or "stop_reason" (Anthropic) string values of a complete
// answer or of stream events, in order; null ones (a stream's events
// before its last) are skipped.
func appendFinishReasons(out []string, body []byte) []string {
	n := len(out)
	for _, key := range [][]byte{[]byte(`"finish_reason"`), []byte(`"stop_reason"`)} {
		for b := body; ; {
			i := bytes.Index(b, key)
			if i < 0 {
				break
			}
			b = bytes.TrimLeft(b[i+len(key):], " \t\r\n")
			if len(b) == 0 || b[0] != ':' {
				continue
			}
			b = bytes.TrimLeft(b[1:], " \t\r\n")
			if len(b) > 0 && b[0] == '"' {
				if j := bytes.IndexByte(b[1:], '"'); j >= 0 && j <= 64 {
					out = append(out, string(b[1:1+j]))
				}
			}
		}
		if len(out) > n {
			return out
		}
	}
	return out
}

// traceRejected records a request refused before any upstream as a
// server span of its own, with its status and reason.
func (r *Recorder) traceRejected(ctx *fasthttp.RequestCtx, g *upstream.Group, status int, reason string) {
	t := r.opts.Tracer
	name := "request"
	if g != nil {
		name = "chat " + g.Name
	}
	parent := t.Extract(context.Background(), tracing.RequestCarrier{H: &ctx.Request.Header})
	_, span := t.Start(parent, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(requestStart(ctx)),
		trace.WithAttributes(
			tracing.HTTPRequestMethod.String(string(ctx.Method())),
			tracing.HTTPResponseStatusCode.Int(status),
			tracing.ErrorType.String(reason),
		))
	if status >= 500 {
		span.SetStatus(codes.Error, reason)
	}
	span.End()
}

// traceHeaders captures the traceparent and tracestate a propagator
// writes (propagation.TextMapCarrier).
type traceHeaders struct{ parent, state string }

func (h *traceHeaders) Get(string) string { return "" }
func (h *traceHeaders) Keys() []string    { return nil }
func (h *traceHeaders) Set(k, v string) {
	switch strings.ToLower(k) {
	case "traceparent":
		h.parent = v
	case "tracestate":
		h.state = v
	}
}
