package server

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A client that asks for a large non-stream answer and never reads it
// used to hold the answer for as long as it lived, outside
// llmedge_requests_in_flight. Now the call stays in flight while its
// answer is written, and when a write has blocked for
// http_write_timeout the connection is cut, the answer released, the
// cut counted, and the gauge back to 0.
func TestUnreadAnswerCutAfterWriteTimeout(t *testing.T) {
	const answerSize = 20 << 20
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"`+
			strings.Repeat("x", answerSize)+`"},"finish_reason":"stop"}]}`)
	})
	cfg := testConfig(dep(0, "m", "openai/m", up.base(), "sk-up"))
	setSettings(cfg, "general_settings", map[string]any{"http_write_timeout": 0.3})
	gw := startGateway(t, cfg)

	conn, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	writeRequest(t, conn, "POST", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, "Authorization: Bearer "+testMasterKey)
	// Never read, until the gateway should have given up.
	waitFor(t, 10*time.Second, "the unread answer's cut to be counted", func() bool {
		return scrape(t, gw)["llmedge_answer_write_timeouts_total"] == 1
	})
	waitFor(t, 5*time.Second, "in-flight back to 0", func() bool { return gw.srv.InFlight() == 0 })

	// What the client can still read is a truncated answer, then the end
	// of the connection.
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.Copy(io.Discard, conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after the cut (%d bytes read)", got)
	}
	if got >= answerSize {
		t.Fatalf("the whole answer (%d bytes) was still delivered", got)
	}
}

// An answer read by its client is written whole, however large, and
// ends the call once written.
func TestLargeAnswerReadByClientIsWhole(t *testing.T) {
	const answerSize = 3 << 20
	up := newFakeOpenAI(t)
	up.setHandler(answerJSON(strings.Repeat("y", answerSize)))
	cfg := testConfig(dep(0, "m", "openai/m", up.base(), "sk-up"))
	setSettings(cfg, "general_settings", map[string]any{"http_write_timeout": 0.3})
	gw := startGateway(t, cfg)
	r := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if r.StatusCode != 200 || strings.Count(r.Body, "y") != answerSize || r.Header.Get("X-Llmedge-Response-Duration-Ms") == "" {
		t.Fatalf("status %d, %d bytes, headers %v", r.StatusCode, len(r.Body), r.Header)
	}
	waitFor(t, 5*time.Second, "in-flight back to 0", func() bool { return gw.srv.InFlight() == 0 })
	if n := scrape(t, gw)["llmedge_answer_write_timeouts_total"]; n != 0 {
		t.Fatalf("%v cuts counted for a client that read", n)
	}
}
