package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
)

// An api_keys entry is a client key, not an operator key: it must not
// reload the config or read /metrics when metrics_require_auth is set
// (both documented as needing the master key).
func TestAdminRoutesNeedMasterKey(t *testing.T) {
	const team = "sk-team-a-0123456789"
	cfg := limitsConfig(map[string]any{
		"api_keys":             []any{map[string]any{"key": team, "name": "team-a"}},
		"metrics_require_auth": true,
	}, dep(0, "m", "mock/m", "", ""))
	opts := Options{ObserveOptions: ObserveOptions{LoadConfig: func() (*config.Config, error) { return cfg, nil }}}
	gw, _ := startObserved(t, cfg, opts)

	if r := rawPost(t, gw, "/config/reload", "", team); r.StatusCode != 401 {
		t.Errorf("reload with an api_keys key: %d %s, want 401", r.StatusCode, r.Body)
	}
	if r := rawRequest(t, gw, "GET", "/metrics", "", "Authorization: Bearer "+team); r.StatusCode != 401 {
		t.Errorf("/metrics with an api_keys key: %d, want 401", r.StatusCode)
	}
	if r := rawPost(t, gw, "/config/reload", "", testMasterKey); r.StatusCode != 200 {
		t.Errorf("reload with the master key: %d %s", r.StatusCode, r.Body)
	}
	if r := rawRequest(t, gw, "GET", "/metrics", "", "Authorization: Bearer "+testMasterKey); r.StatusCode != 200 {
		t.Errorf("/metrics with the master key: %d", r.StatusCode)
	}
	// A client key still works on client routes.
	if r := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, team); r.StatusCode != 200 {
		t.Errorf("chat with an api_keys key: %d %s", r.StatusCode, r.Body)
	}
}

// A client that pipelines (sends its next request while one is in
// flight) gets both answers: the disconnect watcher must not eat the
// next request's first byte and then drop the connection with the
// first answer unsent.
func TestPipelinedRequestKeepsFirstAnswer(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "json", true: "stream"}[stream], func(t *testing.T) {
			up := newFakeOpenAI(t)
			arrived, gate := make(chan struct{}, 4), make(chan struct{})
			var once sync.Once
			up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
				arrived <- struct{}{}
				once.Do(func() {
					select {
					case <-gate:
					case <-time.After(5 * time.Second):
					}
				})
				answerJSON("hi there")(w, r, body)
			})
			gw := startGateway(t, testConfig(dep(0, "m", "openai/m", up.base(), "sk-up")))
			conn, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			body := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
			if stream {
				body = `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`
			}
			auth := "Authorization: Bearer " + testMasterKey
			writeRequest(t, conn, "POST", "/v1/chat/completions", body, auth)
			select {
			case <-arrived:
			case <-time.After(5 * time.Second):
				t.Fatal("first request never reached the upstream")
			}
			// Past watchDelay the watcher reads the socket; the second
			// request is there to be read.
			writeRequest(t, conn, "POST", "/v1/chat/completions", body, auth)
			time.Sleep(2 * watchDelay) // so the watch has started: the path under test
			close(gate)
			readAnswers(t, conn, 2, "hi")
		})
	}
}

// Upstream error text is scrubbed of every configured secret (not only
// the answering deployment's own key, which upstream/ scrubs) on every
// way it reaches a client: with keepalive pings the error becomes an SSE
// event, and /v1/messages answers Anthropic's error shape. Here an
// upstream echoes another deployment's key (Azure-style hex, which no
// key-shape rule catches).
func TestUpstreamErrorScrubbedOnEveryPath(t *testing.T) {
	const other = "0123456789abcdef0123456789abcdef"
	echo := func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		io.WriteString(w, `{"error":{"message":"key `+other+` is not valid here","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
	}
	t.Run("keepalive stream", func(t *testing.T) {
		up := newFakeOpenAI(t)
		up.setHandler(echo)
		cfg := testConfig(dep(0, "m", "openai/m", up.base(), "k"), dep(1, "o", "openai/o", up.base(), other))
		setSettings(cfg, "general_settings", map[string]any{"stream_keepalive_seconds": int64(5)})
		gw := startGateway(t, cfg)
		r := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`, testMasterKey)
		if strings.Contains(r.Body, other) || !strings.Contains(r.Body, "invalid_api_key") {
			t.Fatalf("keepalive error event: %d %q", r.StatusCode, r.Body)
		}
	})
	t.Run("messages", func(t *testing.T) {
		up := newFakeOpenAI(t)
		up.setHandler(anthropicFail(401, "authentication_error", "key "+other+" is not valid here"))
		gw := startGateway(t, testConfig(anthropicDep(0, "claude", up), dep(1, "o", "openai/o", up.base(), other)))
		r := rawPost(t, gw, "/v1/messages", `{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`, testMasterKey)
		if r.StatusCode != 401 || strings.Contains(r.Body, other) || !strings.Contains(r.Body, "authentication_error") {
			t.Fatalf("messages error: %d %q", r.StatusCode, r.Body)
		}
	})
}

// A client that stops reading a stream (a paused process: its kernel
// keeps the connection open with a zero window) must not pin the
// connection goroutine and the upstream call forever: a write to it that
// blocks for clientWriteTimeout ends the stream and the upstream call.
func TestStalledStreamClientIsCut(t *testing.T) {
	for _, keepalive := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "keepalive"}[keepalive], func(t *testing.T) {
			old := clientWriteTimeout
			clientWriteTimeout = 300 * time.Millisecond
			t.Cleanup(func() { clientWriteTimeout = old })
			up := newFakeOpenAI(t)
			up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
				w.Header().Set("Content-Type", "text/event-stream")
				fl := w.(http.Flusher)
				ev := "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + strings.Repeat("x", 8000) + "\"},\"finish_reason\":null}]}\n\n"
				for i := 0; i < 50000; i++ { // at most 400 MB: the test fails long before
					if _, err := io.WriteString(w, ev); err != nil {
						return
					}
					fl.Flush()
					if r.Context().Err() != nil {
						return
					}
				}
			})
			cfg := testConfig(dep(0, "m", "openai/m", up.base(), "sk-up"))
			if keepalive {
				setSettings(cfg, "general_settings", map[string]any{"stream_keepalive_seconds": 0.05})
			}
			gw := startGateway(t, cfg)
			conn, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.(*net.TCPConn).SetReadBuffer(4096)
			writeRequest(t, conn, "POST", "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`, "Authorization: Bearer "+testMasterKey)
			// Never read.
			select {
			case <-up.closed:
			case <-time.After(10 * time.Second):
				t.Fatal("a client that stopped reading still holds the upstream call")
			}
			waitFor(t, 5*time.Second, "in-flight back to 0", func() bool { return gw.srv.InFlight() == 0 })
		})
	}
}

// The stream's write deadline ends with its response: the connection's
// next request, long after the deadline, is answered.
func TestStreamWriteDeadlineClearedForNextRequest(t *testing.T) {
	old := clientWriteTimeout
	clientWriteTimeout = 100 * time.Millisecond
	t.Cleanup(func() { clientWriteTimeout = old })
	up := newFakeOpenAI(t)
	gw := startGateway(t, testConfig(dep(0, "m", "openai/m", up.base(), "sk-up")))
	conn, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	auth := "Authorization: Bearer " + testMasterKey
	for i, body := range []string{
		`{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}]}`,
	} {
		if i == 1 {
			time.Sleep(3 * clientWriteTimeout) // past the stream's deadline, by design
		}
		writeRequest(t, conn, "POST", "/v1/chat/completions", body, auth)
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || len(b) == 0 {
			t.Fatalf("request %d: %d %v", i, resp.StatusCode, err)
		}
	}
}

// readAnswers reads n responses from conn (within 5 s), each a 200
// whose body contains want.
func readAnswers(t *testing.T, conn net.Conn, n int, want string) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	for i := 1; i <= n; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Fatalf("answer %d: %d %q %v", i, resp.StatusCode, b, err)
		}
	}
}
