// Package errbody is llmedge's one writer of the error bodies clients
// see: OpenAI's {"error":{...}} document, Anthropic's
// {"type":"error","error":{...}}, and the SSE events that end a stream
// with either (plus the Responses API's "error" event).
//
// It owns the shapes only: which status, type and message an error gets
// is decided by its callers (server for llmedge's own refusals,
// upstream for provider failures). It must not scrub, log or import
// anything of llmedge's but jsonx.
package errbody

import "github.com/llmedge/llmedge/internal/jsonx"

// AppendOpenAI appends {"error":{"message","type","param","code"}};
// empty param and code are written as null.
func AppendOpenAI(dst []byte, message, typ, param, code string) []byte {
	dst = append(dst, `{"error":{"message":`...)
	dst = jsonx.AppendString(dst, message)
	dst = append(dst, `,"type":`...)
	dst = jsonx.AppendString(dst, typ)
	dst = append(dst, `,"param":`...)
	dst = appendOrNull(dst, param)
	dst = append(dst, `,"code":`...)
	dst = appendOrNull(dst, code)
	return append(dst, "}}"...)
}

// AppendOpenAIEvent appends the SSE event carrying an OpenAI error
// object (param null):
//
//	data: {"error":{"message":...,"type":...,"param":null,"code":...}}\n\n
//
// Every string is escaped, so the event is one data line whatever the
// message holds.
func AppendOpenAIEvent(dst []byte, message, typ, code string) []byte {
	dst = append(dst, "data: "...)
	dst = AppendOpenAI(dst, message, typ, "", code)
	return append(dst, "\n\n"...)
}

// AppendAnthropic appends {"type":"error","error":{"type","message"}}.
func AppendAnthropic(dst []byte, typ, message string) []byte {
	dst = append(dst, `{"type":"error","error":{"type":`...)
	dst = jsonx.AppendString(dst, typ)
	dst = append(dst, `,"message":`...)
	dst = jsonx.AppendString(dst, message)
	return append(dst, "}}"...)
}

// AppendAnthropicEvent appends the "event: error" SSE event of
// Anthropic's stream format.
func AppendAnthropicEvent(dst []byte, typ, message string) []byte {
	dst = append(dst, "event: error\ndata: "...)
	dst = AppendAnthropic(dst, typ, message)
	return append(dst, "\n\n"...)
}

// AppendResponsesEvent appends the Responses API's "error" event (a
// Responses stream has no [DONE]).
func AppendResponsesEvent(dst []byte, message, code string) []byte {
	dst = append(dst, "event: error\ndata: {\"type\":\"error\",\"code\":"...)
	dst = jsonx.AppendString(dst, code)
	dst = append(dst, `,"message":`...)
	dst = jsonx.AppendString(dst, message)
	return append(dst, ",\"param\":null,\"sequence_number\":0}\n\n"...)
}

func appendOrNull(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return jsonx.AppendString(dst, s)
}

// AnthropicType is Anthropic's error type for an HTTP status, for
// errors llmedge itself answers on the Anthropic-shaped route.
func AnthropicType(status int) string {
	switch status {
	case 400, 405, 409, 422:
		return "invalid_request_error"
	case 401:
		return "authentication_error"
	case 402:
		return "billing_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 413:
		return "request_too_large"
	case 429:
		return "rate_limit_error"
	case 408, 504:
		return "timeout_error"
	case 503, 529:
		return "overloaded_error"
	}
	return "api_error"
}
