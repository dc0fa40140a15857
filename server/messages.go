package server

import (
	"errors"
	"github.com/llmedge/llmedge/server/observe"

	"github.com/llmedge/llmedge/internal/errbody"
	"github.com/llmedge/llmedge/server/request"
	"github.com/llmedge/llmedge/upstream"
	"github.com/llmedge/llmedge/upstream/provider/anthropic"
	"github.com/valyala/fasthttp"
)

// Inbound Anthropic Messages API (POST /v1/messages and
// /v1/messages/count_tokens), for Claude Code and other Anthropic
// clients, on every deployment: bodies pass through to anthropic/
// deployments with "model" rewritten, and to Claude on Vertex AI and
// Bedrock in their native form, and are translated to chat for the rest
// (upstream/messages_chat.go); errors are Anthropic-shaped:
// {"type":"error","error":{"type":...,"message":...}}.

// writeAnthropicError answers with Anthropic's error JSON.
func writeAnthropicError(ctx *fasthttp.RequestCtx, status int, typ, message string) {
	ctx.Response.Header.SetContentType("application/json")
	ctx.SetStatusCode(status)
	ctx.Response.SetBodyRaw(errbody.AppendAnthropic(ctx.Response.Body()[:0], typ, message))
}

func writeAnthropicAuthError(ctx *fasthttp.RequestCtx) {
	writeAnthropicError(ctx, fasthttp.StatusUnauthorized, "authentication_error", "invalid or missing API key: send it as 'x-api-key: <key>' or 'Authorization: Bearer <key>'")
}

// writeAnthropicUpstreamError answers with an upstream failure,
// scrubbed of secrets like writeUpstreamError.
func writeAnthropicUpstreamError(ctx *fasthttp.RequestCtx, e *upstream.Error, secrets []string) {
	if e.Status == 499 {
		ctx.SetConnectionClose()
	}
	if len(e.RetryAfter) > 0 {
		ctx.Response.Header.SetBytesV("Retry-After", e.RetryAfter)
	}
	if len(e.Body) > 0 {
		// Anthropic's own error document.
		ctx.Response.Header.SetContentType("application/json")
		ctx.SetStatusCode(e.Status)
		ctx.Response.SetBody(upstream.ScrubSecrets(e.Body, secrets))
		return
	}
	writeAnthropicError(ctx, e.Status, errbody.AnthropicType(e.Status), string(upstream.ScrubSecrets([]byte(e.Message), secrets)))
}

func (s *Server) handleMessages(ctx *fasthttp.RequestCtx)    { s.serveMessages(ctx, false) }
func (s *Server) handleCountTokens(ctx *fasthttp.RequestCtx) { s.serveMessages(ctx, true) }

func (s *Server) serveMessages(ctx *fasthttp.RequestCtx, countTokens bool) {
	sn := s.current()
	key := sn.auth.identify(&ctx.Request.Header)
	if key == nil {
		writeAnthropicAuthError(ctx)
		s.observeRejected(ctx, sn, nil, false, observe.RejectAuth)
		return
	}
	c := callPool.Get().(*call)
	body := ctx.PostBody()
	if err := request.ScanChat(body, &c.fields); err != nil {
		callPool.Put(c)
		writeAnthropicError(ctx, fasthttp.StatusBadRequest, "invalid_request_error", err.Msg)
		s.observeRejected(ctx, sn, nil, false, observe.RejectBadRequest)
		return
	}
	request.SplitBetas(&c.fields, sn.reg)
	if !s.permitModel(ctx, sn, c, key, true) {
		callPool.Put(c)
		return
	}
	g := sn.reg.Lookup(c.fields.Model)
	if g == nil {
		msg := "model '" + request.Printable(c.fields.Model) + "' not found: GET /v1/models lists the models this gateway serves"
		writeAnthropicError(ctx, fasthttp.StatusNotFound, "not_found_error", msg)
		s.observeRejected(ctx, sn, nil, c.fields.Stream, observe.RejectModelNotFound)
		callPool.Put(c)
		return
	}
	c.fields.NoOutput = countTokens
	if !s.startCall(ctx, sn, c, key, g, true) {
		return
	}
	c.anth = upstream.AnthropicInbound{
		CountTokens: countTokens,
		Version:     ctx.Request.Header.Peek("Anthropic-Version"),
		// The client's betas and a model-name suffix's.
		Beta: anthropic.MergeBetas(ctx.Request.Header.Peek("Anthropic-Beta"), c.fields.Betas),
	}
	c.req = upstream.ChatRequest{
		Body:          body,
		ModelStart:    c.fields.ModelStart,
		ModelEnd:      c.fields.ModelEnd,
		Model:         c.fields.Model,
		Stream:        c.fields.Stream && !countTokens,
		RequestID:     c.reqID,
		UserID:        c.userID,
		MemoryRouting: c.memoryRouting,
		Cancel:        &c.cancel,
		Anthropic:     &c.anth,
		WantUsage:     c.adm.WantsTokens(),
	}
	c.req.Tracer = s.obs.Trace(ctx, &c.obs, observe.Traced{Route: upstream.RouteChat, Anthropic: true, Model: c.fields.Model, Stream: c.fields.Stream, ReqID: c.reqID})
	c.watch.Start(ctx.Conn(), &c.cancel)

	resp, err := s.ask(ctx, sn, c, g)
	if err != nil {
		var ue *upstream.Error
		if errors.As(err, &ue) {
			writeAnthropicUpstreamError(ctx, ue, sn.edge.secrets)
		} else {
			writeAnthropicError(ctx, fasthttp.StatusBadGateway, "api_error", "upstream failure")
		}
		s.finish(c, resp)
		return
	}
	resp.VisitAnthropicHeaders(func(k, v []byte) { ctx.Response.Header.SetCanonical(k, v) }) // k canonical as read
	s.answer(ctx, c, resp)
}
