package testredis

import (
	"crypto/tls"
	"testing"

	"github.com/llmedge/llmedge/internal/egresstest"
)

// StartTLS starts a redis-server that speaks TLS only (no plaintext
// port) with a certificate for 127.0.0.1 from a CA made for the test
// (its PEM file is ca.BundlePath, what ssl_ca_certs names); clients
// need no certificate.
func StartTLS(t testing.TB) (*Server, *egresstest.CA) {
	t.Helper()
	ca := egresstest.NewCA(t, "redis-test")
	cert, key := ca.ServerCertFiles(t, "127.0.0.1", "localhost")
	tc := &tls.Config{RootCAs: ca.Pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	return start(t, []string{"--tls-cert-file", cert, "--tls-key-file", key,
		"--tls-ca-cert-file", ca.BundlePath, "--tls-auth-clients", "no"}, tc), ca
}
