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
