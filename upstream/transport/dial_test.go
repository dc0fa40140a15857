package transport

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// exchangeOver writes a GET over c and returns the answer's status line.
func exchangeOver(t *testing.T, c net.Conn, host string) string {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET /v1/models HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(line)
}

func answerOK(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"data":[]}`) }

// TestDialAsidePlain: a pool dials a plain upstream through the aside
// dialer and the connection works.
func TestDialAsidePlain(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(answerOK))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	p := NewPools(PoolSettings{}).Get(addr, false)
	pc, err := p.acquire(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.put(false)
	if _, ok := pc.Conn().(*tls.Conn); ok {
		t.Fatal("plain pool handed out a TLS connection")
	}
	if got := exchangeOver(t, pc.Conn(), addr); got != "HTTP/1.1 200 OK" {
		t.Fatalf("status line %q", got)
	}
}

// TestDialAsideTLS: for an https pool the aside dialer does the
// handshake fasthttp would (the HostClient's TLSConfig, ServerName from
// the address) and hands over a handshaken connection, which fasthttp
// keeps as it is.
func TestDialAsideTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(answerOK))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "https://")
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())

	p := NewPools(PoolSettings{}).Get(addr, true)
	p.client().TLSConfig = &tls.Config{RootCAs: roots}
	pc, err := p.acquire(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.put(false)
	c := pc.Conn()
	if tr, ok := c.(*trackedConn); ok {
		c = tr.Conn // probed while idle (idleprobe.go)
	}
	tc, ok := c.(*tls.Conn)
	if !ok {
		t.Fatalf("https pool handed out a %T", pc.Conn())
	}
	st := tc.ConnectionState()
	if !st.HandshakeComplete || len(st.VerifiedChains) == 0 {
		t.Fatalf("handshake complete %v, verified chains %d", st.HandshakeComplete, len(st.VerifiedChains))
	}
	if got := exchangeOver(t, tc, addr); got != "HTTP/1.1 200 OK" {
		t.Fatalf("status line %q", got)
	}
}

// TestDialAsideTLSUntrusted: a certificate the roots do not trust fails
// the acquire with the verification error, as fasthttp's handshake did.
func TestDialAsideTLSUntrusted(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(answerOK))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "https://")
	p := NewPools(PoolSettings{}).Get(addr, true)
	p.client().TLSConfig = &tls.Config{RootCAs: x509.NewCertPool()}
	_, err := p.acquire(time.Second)
	var verr *tls.CertificateVerificationError
	if !errors.As(err, &verr) {
		t.Fatalf("acquire: %v, want a certificate verification error", err)
	}
}

// TestDialAsideRefused: a dial error comes back as it is.
func TestDialAsideRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	p := NewPools(PoolSettings{DialTimeout: time.Second}).Get(addr, false)
	if _, err := p.acquire(time.Second); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("acquire: %v, want connection refused", err)
	}
}
