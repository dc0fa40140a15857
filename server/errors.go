package server

import (
	"github.com/llmedge/llmedge/internal/errbody"
	"github.com/valyala/fasthttp"
)

// writeError answers with OpenAI's error JSON.
func writeError(ctx *fasthttp.RequestCtx, status int, message, typ, param, code string) {
	ctx.Response.Header.SetContentType("application/json")
	ctx.SetStatusCode(status)
	ctx.Response.SetBodyRaw(errbody.AppendOpenAI(ctx.Response.Body()[:0], message, typ, param, code))
}
