package server

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// An HTTP/1.0 client cannot read chunked transfer coding (RFC 9112
// §7.1: it is HTTP/1.1's), yet a stream answered it chunked. HTTP/1.0
// clients get the stream close-delimited: no Content-Length, no
// Transfer-Encoding, Connection: close, the events as they are.
func TestHTTP10StreamIsCloseDelimited(t *testing.T) {
	mock := dep(0, "demo", "mock/demo", "", "")
	mock.MockResponse, mock.HasMockResponse = "one two three", true
	for _, keepalive := range []bool{false, true} {
		cfg := testConfig(mock)
		if keepalive {
			setSettings(cfg, "general_settings", map[string]any{"stream_keepalive_seconds": 5})
		}
		gw := startGateway(t, cfg)
		body := `{"model":"demo","stream":true,"messages":[{"role":"user","content":"hi"}]}`
		conn, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		req := "POST /v1/chat/completions HTTP/1.0\r\nContent-Type: application/json\r\nAuthorization: Bearer " + testMasterKey +
			"\r\nContent-Length: " + itoa(len(body)) + "\r\n\r\n" + body
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		// Close-delimited: the answer ends when llmedge closes.
		raw, err := io.ReadAll(conn)
		conn.Close()
		if err != nil {
			t.Fatalf("keepalive=%v: reading to EOF: %v (got %q)", keepalive, err, raw)
		}
		head, payload, ok := strings.Cut(string(raw), "\r\n\r\n")
		if !ok {
			t.Fatalf("keepalive=%v: no header end in %q", keepalive, raw)
		}
		lh := strings.ToLower(head)
		if !strings.HasPrefix(head, "HTTP/1.") || !strings.Contains(head, " 200 ") {
			t.Errorf("keepalive=%v: status line: %q", keepalive, head)
		}
		for _, bad := range []string{"transfer-encoding", "content-length"} {
			if strings.Contains(lh, bad) {
				t.Errorf("keepalive=%v: HTTP/1.0 stream has %s:\n%s", keepalive, bad, head)
			}
		}
		if !strings.Contains(lh, "connection: close") {
			t.Errorf("keepalive=%v: no Connection: close:\n%s", keepalive, head)
		}
		if !strings.HasPrefix(strings.TrimLeft(payload, ": ping\n"), "data: {") || !strings.HasSuffix(payload, "data: [DONE]\n\n") {
			t.Errorf("keepalive=%v: body is not bare SSE: %q", keepalive, payload)
		}
		waitFor(t, 3*time.Second, "the stream finished", func() bool { return gw.srv.InFlight() == 0 })
	}
}
