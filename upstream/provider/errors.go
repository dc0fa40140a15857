package provider

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/llmedge/llmedge/internal/errbody"
	"github.com/llmedge/llmedge/sse"
	"github.com/llmedge/llmedge/upstream/transport"
	"github.com/valyala/fasthttp"
)

// Error is a failure to hand the client: an HTTP status and an
// OpenAI-shaped error. Body, when set, is the upstream's own JSON error
// body (already scrubbed of the deployment's key) to pass on verbatim.
type Error struct {
	Status  int
	Message string
	Type    string
	Code    string
	Param   string
	Body    []byte
	// RetryAfter is the upstream's Retry-After header, if any.
	RetryAfter []byte
	// Retryable says another attempt may succeed (408, 429, 5xx,
	// connection errors, timeouts).
	Retryable bool
	// Detail is the full text of a transport failure for the log
	// (scrubbed of the deployment's secrets; it may name local socket
	// addresses and quote upstream bytes, which Message never does).
	Detail string
}

func (e *Error) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return "upstream error " + strconv.Itoa(e.Status)
}

// AppendJSON appends the OpenAI error document for e.
func (e *Error) AppendJSON(dst []byte) []byte {
	if len(e.Body) > 0 {
		return append(dst, e.Body...)
	}
	return errbody.AppendOpenAI(dst, e.Message, e.Type, e.Param, e.Code)
}

// ErrorType is OpenAI's error type for a status.
func ErrorType(status int) string {
	switch status {
	case 400, 404, 409, 422:
		return "invalid_request_error"
	case 401:
		return "authentication_error"
	case 403:
		return "permission_error"
	case 408:
		return "timeout_error"
	case 429:
		return "rate_limit_error"
	case 503, 529:
		return "service_unavailable_error"
	default:
		return "api_error"
	}
}

// RetryableStatus reports whether an upstream status may be retried.
func RetryableStatus(status int) bool {
	return status == 408 || status == 429 || status >= 500
}

// UpstreamError builds the client error for a non-2xx upstream answer.
// A JSON body that already has OpenAI's shape is passed on; anything
// else is wrapped. The deployment's key is scrubbed either way.
func UpstreamError(d *Endpoint, status int, body []byte, retryAfter []byte) *Error {
	body = d.Scrub(body)
	e := &Error{Status: status, Type: ErrorType(status), Retryable: RetryableStatus(status)}
	if len(retryAfter) > 0 {
		e.RetryAfter = append([]byte(nil), retryAfter...)
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '{' && bytes.Contains(trimmed, []byte(`"error"`)) && len(trimmed) < 64<<10 {
		e.Body = append([]byte(nil), trimmed...)
		e.Message = fmt.Sprintf("upstream %s returned %d", d.ID, status)
		return e
	}
	text := string(trimmed)
	if len(text) > 512 {
		text = text[:512] + "..."
	}
	if text == "" {
		text = "(empty body)"
	}
	e.Message = fmt.Sprintf("upstream deployment %s returned HTTP %d: %s", d.ID, status, text)
	e.Code = "upstream_error"
	return e
}

// TransportError maps a connection failure to the client's error: the
// deployment, its configured host and the kind of failure (transport/failure.go);
// the error's own text goes to Detail.
func TransportError(d *Endpoint, err error) *Error {
	switch {
	case errors.Is(err, transport.ErrTimeout):
		return &Error{Status: 408, Type: "timeout_error", Code: "upstream_timeout", Retryable: true,
			Message: fmt.Sprintf("upstream deployment %s (model %q) timed out", d.ID, d.ModelName)}
	case errors.Is(err, transport.ErrCanceled):
		return &Error{Status: 499, Type: "api_error", Code: "client_closed_request", Message: transport.ErrCanceled.Error()}
	}
	if errors.Is(err, transport.ErrBodyTooLarge) || errors.Is(err, sse.ErrEventTooLarge) || errors.Is(err, fasthttp.ErrBodyTooLarge) {
		// The same deployment would send the same answer again: not
		// worth a retry, and the upstream is up, so not a 503.
		return &Error{Status: 502, Type: "api_error", Code: "upstream_response_too_large",
			Message: fmt.Sprintf("upstream deployment %s (model %q) sent an answer larger than llmedge accepts", d.ID, d.ModelName)}
	}
	var re *transport.RedirectError
	if errors.As(err, &re) {
		return &Error{Status: 502, Type: "api_error", Code: "upstream_redirect",
			Message: fmt.Sprintf("upstream deployment %s (model %q) %s", d.ID, d.ModelName, re.Error())}
	}
	var pe *transport.ProxyError
	if errors.As(err, &pe) && pe.Status != 0 {
		// The proxy refused the tunnel: 407 and 403 are its policy or
		// its credentials, the same on every attempt; a 5xx of its own
		// (it could not reach the host) may pass.
		retry := pe.Status >= 500
		code := "proxy_error"
		if pe.Status == 407 || pe.Status == 401 {
			code = "proxy_authentication_required"
		}
		return &Error{Status: 502, Type: "api_error", Code: code, Retryable: retry,
			Message: fmt.Sprintf("upstream deployment %s (model %q) at %s: %s", d.ID, d.ModelName, d.Host, transport.FailureKind(err)),
			Detail:  FailureDetail(d, err)}
	}
	if transport.CertificateProblem(err) {
		// A certificate is the same on the next attempt.
		return &Error{Status: 502, Type: "api_error", Code: "upstream_certificate_error",
			Message: fmt.Sprintf("upstream deployment %s (model %q) at %s: %s", d.ID, d.ModelName, d.Host, transport.FailureKind(err)),
			Detail:  FailureDetail(d, err)}
	}
	kind := transport.FailureKind(err)
	if strings.HasPrefix(kind, transport.MalformedAnswer) {
		// The upstream is up and answered wrong: another attempt may
		// meet a sounder server behind the same name.
		return &Error{Status: 502, Type: "api_error", Code: "upstream_bad_response", Retryable: true,
			Message: fmt.Sprintf("upstream deployment %s (model %q) at %s sent a %s", d.ID, d.ModelName, d.Host, kind),
			Detail:  FailureDetail(d, err)}
	}
	return &Error{Status: 503, Type: "service_unavailable_error", Code: "upstream_unavailable", Retryable: true,
		Message: fmt.Sprintf("upstream deployment %s (model %q) at %s is unreachable: %s", d.ID, d.ModelName, d.Host, kind),
		Detail:  FailureDetail(d, err)}
}

// FailureDetail is err's full text for the log (Error.Detail),
// scrubbed of d's secrets, naming the deployment and host.
func FailureDetail(d *Endpoint, err error) string {
	return "deployment " + d.ID + " (" + d.Host + "): " + string(d.Scrub([]byte(err.Error())))
}

// RetryAfterHeader returns an upstream's wait hint: retry-after-ms (as
// seconds with a fraction, the precision the OpenAI SDKs read) when
// present, else Retry-After (seconds or an HTTP date). Nil when neither.
func RetryAfterHeader(h *fasthttp.ResponseHeader) []byte {
	if ms := h.Peek("Retry-After-Ms"); len(ms) > 0 {
		if f, err := strconv.ParseFloat(string(bytes.TrimSpace(ms)), 64); err == nil && f >= 0 && f < 1e9 {
			return strconv.AppendFloat(nil, f/1000, 'f', -1, 64)
		}
	}
	return h.Peek("Retry-After")
}
