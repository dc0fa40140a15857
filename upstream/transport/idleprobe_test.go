package transport

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
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
// acquired again. The connection is a real loopback socket, as every
// tracked connection is: the once-a-second sweeper may probe it while
// the benchmark runs.
func BenchmarkIdleProbeTracking(b *testing.B) {
	t := loopbackTracked(b)
	b.ReportAllocs()
	for b.Loop() {
		t.idle()
		t.busy()
	}
}

// loopbackTracked is a tracked connection over a loopback TCP socket
// whose peer stays open, closed when tb ends.
func loopbackTracked(tb testing.TB) *trackedConn {
	tb.Helper()
	if !canProbe {
		tb.Skip("idle connections are not probed on this platform")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	peer, err := ln.Accept()
	if err != nil {
		tb.Fatal(err)
	}
	t := trackConn(c, c).(*trackedConn)
	tb.Cleanup(func() {
		_ = t.Close()
		_ = peer.Close()
	})
	return t
}

// The sweeper probes a connection that is idle, keeps it while its peer
// is open and closes it once the peer closed: what the benchmark above
// relies on to run beside it.
func TestIdleProbeSweepsTrackedLoopback(t *testing.T) {
	tc := loopbackTracked(t)
	tc.idle()
	idleConns.sweep(nil)
	if !tc.busy() {
		t.Fatal("the sweeper closed a connection whose peer is open")
	}
}
