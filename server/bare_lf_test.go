package server

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// A request whose header block ended with a bare-LF blank line hung
// until the read timeout (60 s), even GET /health/readiness: fasthttp
// waits for a CRLFCRLF. It is now refused with 400 at once; a head
// with bare-LF lines that still ends in CRLFCRLF is served as before,
// and a keep-alive connection's next head is checked too.
func TestBareLFHeaderEndAnsweredAtOnce(t *testing.T) {
	gw := startGateway(t, testConfig(dep(0, "demo", "mock/demo", "", "")))
	for _, tc := range []struct {
		name, req string
		want      int
	}{
		{"all bare LF", "GET /health/readiness HTTP/1.1\nHost: x\n\n", 400},
		{"CRLF lines, bare-LF blank line", "GET /health/readiness HTTP/1.1\r\nHost: x\r\n\n", 400},
		{"bare-LF line, CRLF blank line", "GET /health/readiness HTTP/1.1\r\nHost: x\n\r\n", 400},
		{"no headers", "GET /health/readiness HTTP/1.0\n\n", 400},
		{"bare-LF request line, CRLFCRLF end", "GET /health/readiness HTTP/1.1\nHost: x\r\n\r\n", 200},
	} {
		conn, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		// Far below the 60 s read timeout: an answer must come at once.
		_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
		start := time.Now()
		// Sent in pieces, as a slow client would, to cover reads that
		// split the blank line.
		for _, part := range []string{tc.req[:len(tc.req)-2], tc.req[len(tc.req)-2 : len(tc.req)-1], tc.req[len(tc.req)-1:]} {
			if _, err := conn.Write([]byte(part)); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Errorf("%s: no answer after %v: %v", tc.name, time.Since(start).Round(time.Millisecond), err)
			conn.Close()
			continue
		}
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
		if tc.want == 400 && !strings.Contains(resp.Header.Get("Content-Type"), "json") {
			t.Errorf("%s: 400 is not JSON: %v", tc.name, resp.Header)
		}
		conn.Close()
	}

	// A keep-alive connection: a good request, then a bad one.
	conn, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	br := bufio.NewReader(conn)
	for i, tc := range []struct {
		req  string
		want int
	}{{"GET /health/readiness HTTP/1.1\r\nHost: x\r\n\r\n", 200}, {"GET /health/readiness HTTP/1.1\nHost: x\n\n", 400}} {
		if _, err := conn.Write([]byte(tc.req)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("keep-alive request %d: %v", i, err)
		}
		_, _ = bufio.NewReader(resp.Body).WriteTo(new(strings.Builder))
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("keep-alive request %d: status %d, want %d", i, resp.StatusCode, tc.want)
		}
	}
}

// BenchmarkReadinessTCP is GET /health/readiness over loopback TCP on a
// keep-alive connection, with the connection wrapped in lfConn (as
// Serve does) and without (fasthttp alone): the wrapper's cost on a
// whole request.
func BenchmarkReadinessTCP(b *testing.B) {
	for _, wrapped := range []bool{false, true} {
		name := "plain"
		if wrapped {
			name = "lfconn"
		}
		b.Run(name, func(b *testing.B) {
			cfg := testConfig(dep(0, "demo", "mock/demo", "", ""))
			reg, err := upstream.NewRegistry(cfg, upstream.Options{})
			if err != nil {
				b.Fatal(err)
			}
			srv := New(cfg, reg, Options{})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			if wrapped {
				go func() { _ = srv.Serve(ln) }()
			} else {
				go func() { _ = srv.srv.Serve(ln) }()
			}
			client := &fasthttp.HostClient{Addr: ln.Addr().String(), MaxConns: 1}
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			req.SetRequestURI("http://" + ln.Addr().String() + "/health/readiness")
			b.ReportAllocs()
			for b.Loop() {
				if err := client.Do(req, resp); err != nil || resp.StatusCode() != 200 {
					b.Fatal(err, resp.StatusCode())
				}
			}
		})
	}
}
