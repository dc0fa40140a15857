package server

import (
	"strconv"

	"github.com/llmedge/llmedge/internal/errbody"
	"github.com/llmedge/llmedge/server/limits"
	"github.com/valyala/fasthttp"
)

// writeError answers with OpenAI's error JSON.
func writeError(ctx *fasthttp.RequestCtx, status int, message, typ, param, code string) {
	ctx.Response.Header.SetContentType("application/json")
	ctx.SetStatusCode(status)
	ctx.Response.SetBodyRaw(errbody.AppendOpenAI(ctx.Response.Body()[:0], message, typ, param, code))
}

// refuse writes an OpenAI error (typ, param, code) or, on
// /v1/messages, an Anthropic one (anthType): every refusal a model
// route makes in both shapes goes through here.
func refuse(ctx *fasthttp.RequestCtx, anthropic bool, status int, typ, anthType, param, code, msg string) {
	if anthropic {
		writeAnthropicError(ctx, status, anthType, msg)
		return
	}
	writeError(ctx, status, msg, typ, param, code)
}

// writeRateLimited answers 429 for a refused admission.
func writeRateLimited(ctx *fasthttp.RequestCtx, v *limits.Verdict) {
	var buf [24]byte
	ctx.Response.Header.SetBytesV("Retry-After", strconv.AppendInt(buf[:0], v.RetryAfter(), 10))
	writeError(ctx, fasthttp.StatusTooManyRequests, v.Message(), "rate_limit_error", "", "rate_limit_exceeded")
}
