package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
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
	var pe *ProxyError
	if errors.As(err, &pe) {
		if pe.Err == nil {
			return pe.Error()
		}
		return "forward proxy " + pe.Proxy + ": " + FailureKind(pe.Err)
	}
	if k := tlsKind(err); k != "" {
		return k
	}
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

// tlsKind names a certificate problem (what an operator fixes with
// ssl_verify, a CA bundle or a client certificate); "" for other errors.
func tlsKind(err error) string {
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var alert tls.AlertError
	switch {
	case errors.As(err, &unknownCA):
		return "TLS: certificate signed by an unknown authority (add the CA with ssl_verify: <bundle path> or SSL_CERT_FILE)"
	case errors.As(err, &hostname):
		return "TLS: certificate is not valid for the host name"
	case errors.As(err, &invalid):
		return "TLS: certificate is invalid (" + invalidReason(invalid.Reason) + ")"
	}
	// An alert the upstream sent (net.OpError "remote error"; Go's alert
	// type is unexported, tls.AlertError is QUIC's).
	var op *net.OpError
	if !errors.As(err, &alert) && (!errors.As(err, &op) || op.Op != "remote error") {
		return ""
	}
	switch msg := err.Error(); {
	case strings.HasSuffix(msg, "tls: certificate required"):
		return "TLS: the upstream requires a client certificate (set ssl_certificate and ssl_certificate_key)"
	case strings.HasSuffix(msg, "tls: bad certificate"), strings.HasSuffix(msg, "tls: unknown certificate authority"),
		strings.HasSuffix(msg, "tls: unsupported certificate"), strings.HasSuffix(msg, "tls: revoked certificate"),
		strings.HasSuffix(msg, "tls: expired certificate"), strings.HasSuffix(msg, "tls: unknown certificate"):
		return "TLS: the upstream rejected the client certificate (" + msg[strings.LastIndex(msg, "tls: ")+5:] + ")"
	}
	return ""
}

// CertificateProblem reports whether err is a certificate failure that
// another attempt would meet again.
func CertificateProblem(err error) bool { return tlsKind(err) != "" }

func invalidReason(r x509.InvalidReason) string {
	switch r {
	case x509.Expired:
		return "expired or not yet valid"
	case x509.NotAuthorizedToSign:
		return "issuer not authorized to sign"
	case x509.IncompatibleUsage:
		return "not for server authentication"
	}
	return "rejected"
}
