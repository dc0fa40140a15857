package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/valyala/fasthttp"
)

// A transport failure's own text is for the log, not for the client:
// Go's network errors name both ends of the socket ("read tcp4
// 127.0.0.1:53720->10.0.0.7:443: connection reset by peer"), and
// fasthttp's header parse errors quote the upstream's bytes. The client
// is told the deployment, its configured host and the kind of failure.

// FailureKind says in a few words what went wrong with the connection or
// the answer's framing, for a client-facing message.
func FailureKind(err error) string {
	var dns *net.DNSError
	var small *fasthttp.ErrSmallBuffer
	switch {
	case errors.Is(err, ErrTimeout), isTimeout(err):
		return "timed out"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable"
	case errors.As(err, &dns):
		return "host name lookup failed"
	case isTLSFailure(err):
		return "TLS handshake failed"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, fasthttp.ErrConnectionClosed):
		return "connection closed before the answer was complete"
	case errors.As(err, &small):
		return MalformedAnswer + ": response headers too large"
	case errors.Is(err, errUnsupportedEncoding):
		return MalformedAnswer + ": " + errUnsupportedEncoding.Error()
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return "connection failed"
	}
	// What is left was read from the upstream and did not parse: a
	// status line, headers, chunk framing or a compressed body.
	return MalformedAnswer
}

// MalformedAnswer starts the kind of a failure to parse the answer.
const MalformedAnswer = "malformed answer"

func isTLSFailure(err error) bool {
	var rec tls.RecordHeaderError
	var alert tls.AlertError
	var verify *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &rec) || errors.As(err, &alert) || errors.As(err, &verify) ||
		errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.Is(err, fasthttp.ErrTLSHandshakeTimeout)
}
