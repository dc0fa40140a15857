package server

import (
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// writeError answers with OpenAI's error JSON.
func writeError(ctx *fasthttp.RequestCtx, status int, message, typ, param, code string) {
	ctx.Response.Header.SetContentType("application/json")
	ctx.SetStatusCode(status)
	ctx.Response.SetBodyRaw(upstream.AppendErrorJSON(ctx.Response.Body()[:0], message, typ, param, code))
}

// writeUpstreamError answers with an upstream failure.
func writeUpstreamError(ctx *fasthttp.RequestCtx, e *upstream.Error) {
	ctx.Response.Header.SetContentType("application/json")
	status := e.Status
	if status == 499 {
		// The client is gone; nothing will read this.
		ctx.SetConnectionClose()
	}
	ctx.SetStatusCode(status)
	if len(e.RetryAfter) > 0 {
		ctx.Response.Header.SetBytesV("Retry-After", e.RetryAfter)
	}
	ctx.Response.SetBodyRaw(e.AppendJSON(ctx.Response.Body()[:0]))
}
