package server

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// hijacked answers with raw bytes on the hijacked connection, then
// closes it (with a reset when rst) and records the connection's remote
// address: llmedge's local socket, which no client may see.
type hijacked struct {
	mu    sync.Mutex
	local []string
}

func (h *hijacked) answer(raw string, rst bool) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		c, bw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		h.mu.Lock()
		h.local = append(h.local, c.RemoteAddr().String())
		h.mu.Unlock()
		_, _ = bw.WriteString(raw)
		_ = bw.Flush()
		if tc, ok := c.(*net.TCPConn); ok && rst {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
	}
}

func (h *hijacked) locals() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.local...)
}

// A transport failure tells the client the deployment, its configured
// host and the kind of failure, never llmedge's local socket address
// (Go's "read tcp4 127.0.0.1:53720->...") or the upstream's raw bytes
// (fasthttp quotes a garbled status line), on a non-stream answer and
// on a stream's error event alike.
func TestTransportErrorHidesLocalAddressAndUpstreamBytes(t *testing.T) {
	const garbage = "XYZZY-garbage-bytes"
	const chunk = `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}`
	sseHead := "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
	ev := "data: " + chunk + "\n\n"
	cases := []struct {
		name   string
		stream bool
		raw    string
		rst    bool
		kind   string
	}{
		{"reset before answer", false, "", true, "connection reset"},
		{"garbled status line", false, "HTTP/1.1 2x0 " + garbage + "\r\n\r\n", false, "malformed answer"},
		{"garbled chunk framing", false, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz" + garbage + "\r\n", false, "malformed answer"},
		{"reset mid-stream", true, sseHead + strconv.FormatInt(int64(len(ev)), 16) + "\r\n" + ev + "\r\n", true, "connection reset"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := newFakeOpenAI(t)
			h := &hijacked{}
			up.setHandler(h.answer(tc.raw, tc.rst))
			cfg := relConfig(map[string]any{"num_retries": int64(0)}, dep(0, "m", "openai/m", up.base(), "k"))
			gw, logs := startObserved(t, cfg, Options{})
			body := chatBody
			if tc.stream {
				body = streamReq
			}
			r := rawPost(t, gw, "/v1/chat/completions", body, testMasterKey)
			host := strings.TrimSuffix(strings.TrimPrefix(up.base(), "http://"), "/v1")
			if !strings.Contains(r.Body, tc.kind) || !strings.Contains(r.Body, host) || !strings.Contains(r.Body, "m-0") {
				t.Errorf("want deployment m-0, host %s and %q in: %d %s", host, tc.kind, r.StatusCode, r.Body)
			}
			if !tc.stream && !strings.Contains(logs.String(), "upstream failure") {
				t.Errorf("no log line with the failure's detail: %s", logs.String())
			}
			for _, bad := range append(h.locals(), "->", garbage, "tcp4", "read tcp") {
				if strings.Contains(r.Body, bad) {
					t.Errorf("client sees %q: %d %s", bad, r.StatusCode, r.Body)
				}
			}
		})
	}
	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		gw := startGateway(t, relConfig(map[string]any{"num_retries": int64(0)}, dep(0, "m", "openai/m", "http://"+addr+"/v1", "k")))
		r := rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey)
		if r.StatusCode != 503 || !strings.Contains(r.Body, "connection refused") || !strings.Contains(r.Body, addr) || strings.Contains(r.Body, "dial tcp") {
			t.Errorf("refused: %d %s", r.StatusCode, r.Body)
		}
	})
}
