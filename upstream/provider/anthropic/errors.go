package anthropic

import (
	"bytes"
	"fmt"

	"github.com/bytedance/sonic"
	"github.com/llmedge/llmedge/upstream/provider"
)

// anError is Anthropic's error document:
// {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}.
type anError struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// anthropicStatus is the HTTP status Anthropic documents for an error
// type (used for error events inside a stream, which carry no status).
func anthropicStatus(typ string) int {
	switch typ {
	case "invalid_request_error":
		return 400
	case "authentication_error":
		return 401
	case "billing_error":
		return 402
	case "permission_error":
		return 403
	case "not_found_error":
		return 404
	case "request_too_large":
		return 413
	case "rate_limit_error":
		return 429
	case "timeout_error":
		return 504
	case "overloaded_error":
		return 529
	}
	return 500
}

// anthropicError maps a non-2xx Anthropic answer. The status is kept
// (529 overloaded stays 529, 429 keeps its retry-after); the body becomes
// an OpenAI error whose code is Anthropic's error type. native keeps
// Anthropic's own body for the /v1/messages route.
func anthropicError(d *provider.Endpoint, status int, body, retryAfter []byte, native bool) *provider.Error {
	body = bytes.TrimSpace(d.Scrub(body))
	e := &provider.Error{Status: status, Type: provider.ErrorType(status), Retryable: provider.RetryableStatus(status)}
	if len(retryAfter) > 0 {
		e.RetryAfter = append([]byte(nil), retryAfter...)
	}
	var ae anError
	if len(body) > 0 && body[0] == '{' && sonic.Unmarshal(body, &ae) == nil && ae.Error.Type != "" {
		e.Code = ae.Error.Type
		e.Message = ae.Error.Message
		if e.Message == "" {
			e.Message = fmt.Sprintf("anthropic returned %s (HTTP %d)", ae.Error.Type, status)
		}
		if native && len(body) < 64<<10 {
			e.Body = append([]byte(nil), body...)
		}
		return e
	}
	text := string(body)
	if len(text) > 512 {
		text = text[:512] + "..."
	}
	if text == "" {
		text = "(empty body)"
	}
	e.Code = "upstream_error"
	e.Message = fmt.Sprintf("upstream deployment %s returned HTTP %d: %s", d.ID, status, text)
	return e
}

// anthropicEventError maps an "error" event (data is its JSON): the
// status comes from the error type, since events carry none.
func anthropicEventError(d *provider.Endpoint, data []byte) *provider.Error {
	var ae anError
	_ = sonic.Unmarshal(d.Scrub(data), &ae)
	typ := ae.Error.Type
	if typ == "" {
		typ = "api_error"
	}
	status := anthropicStatus(typ)
	msg := ae.Error.Message
	if msg == "" {
		msg = "anthropic stream error: " + typ
	}
	return &provider.Error{Status: status, Type: provider.ErrorType(status), Code: typ, Message: msg, Retryable: provider.RetryableStatus(status)}
}
