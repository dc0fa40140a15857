package transport

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// getOver sends one keep-alive request on pc and reads the whole answer,
// so the connection is at a message boundary when it goes back.
func getOver(t *testing.T, pc pooledConn, host string) {
	t.Helper()
	c := pc.Conn()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET /v1/models HTTP/1.1\r\nHost: "+host+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// An idle pooled connection is closed once the upstream closed it (a TLS
// server sends close_notify, then FIN), and one the upstream keeps open
// stays pooled through the probe and is reused.
func TestIdleProbeClosesOnlyConnectionsTheUpstreamClosed(t *testing.T) {
	closing := httptest.NewUnstartedServer(http.HandlerFunc(answerOK))
	closing.Config.IdleTimeout = 50 * time.Millisecond
	closing.StartTLS()
	defer closing.Close()
	keeping := httptest.NewServer(http.HandlerFunc(answerOK))
	defer keeping.Close()

	roots := x509.NewCertPool()
	roots.AddCert(closing.Certificate())
	tlsAddr := strings.TrimPrefix(closing.URL, "https://")
	tp := NewPools(PoolSettings{}).Get(tlsAddr, true)
	tp.client().TLSConfig = &tls.Config{RootCAs: roots}
	pc, err := tp.acquire(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tc, ok := pc.Conn().(*trackedConn)
	if !ok {
		t.Fatalf("https pool handed out a %T, not a probed connection", pc.Conn())
	}
	getOver(t, pc, tlsAddr)
	pc.put(true)
	deadline := time.Now().Add(5 * time.Second)
	for tc.state.Load() != connClosed {
		if time.Now().After(deadline) {
			t.Fatal("idle TLS connection the upstream closed is still open after 5 s")
		}
		idleConns.sweep(nil)
		time.Sleep(10 * time.Millisecond)
	}

	plainAddr := strings.TrimPrefix(keeping.URL, "http://")
	pp := NewPools(PoolSettings{}).Get(plainAddr, false)
	pc, err = pp.acquire(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	kept := pc.Conn()
	getOver(t, pc, plainAddr)
	pc.put(true)
	idleConns.sweep(nil)
	pc, err = pp.acquire(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.put(false)
	if pc.Conn() != kept || !pc.reused() {
		t.Fatal("a healthy idle connection was not reused after a probe")
	}
	getOver(t, pc, plainAddr)
}

// BenchmarkIdleProbeTracking is what idle probing adds to a request: its
// connection goes on the idle list when released and off it when
// acquired again.
func BenchmarkIdleProbeTracking(b *testing.B) {
	b.ReportAllocs()
	t := &trackedConn{}
	for b.Loop() {
		t.idle()
		t.busy()
	}
}
