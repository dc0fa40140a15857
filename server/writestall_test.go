package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

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

// The write deadline bounds one blocked write, not the stream: a stream
// that lasts many times the timeout, with a silence longer than it, is
// delivered whole to a client that reads it. (Every response starts
// under fasthttp's WriteTimeout, set to the same timeout: the stream
// must keep moving it.)
func TestSteadyStreamOutlastsWriteTimeout(t *testing.T) {
	old := clientWriteTimeout
	clientWriteTimeout = 200 * time.Millisecond
	t.Cleanup(func() { clientWriteTimeout = old })
	up := newFakeOpenAI(t)
	const events = 10
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		for i := 0; i < events; i++ {
			gap := 80 * time.Millisecond // 10 events: 4x the timeout
			if i == 5 {
				gap = 350 * time.Millisecond // a silence past the timeout
			}
			time.Sleep(gap) // the upstream's pace is what is tested
			_, _ = io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"e`+strings.Repeat("x", i)+`"},"finish_reason":null}]}`+"\n\n")
			fl.Flush()
		}
		_, _ = io.WriteString(w, "data: [DONE]\n\n")
	})
	gw := startGateway(t, testConfig(dep(0, "m", "openai/m", up.base(), "sk-up")))
	conn, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	writeRequest(t, conn, "POST", "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`, "Authorization: Bearer "+testMasterKey)
	b, err := readStream(t, conn)
	if err != nil {
		t.Fatalf("stream cut after %d bytes: %v", len(b), err)
	}
	if n := strings.Count(string(b), `"content":"e`); n != events || !strings.Contains(string(b), "data: [DONE]") {
		t.Fatalf("%d of %d events, [DONE] %v:\n%s", n, events, strings.Contains(string(b), "[DONE]"), b)
	}
}

// A client that reads a stream slowly makes its writes wait: that wait
// is the client's, not llmedge's overhead. The stream's events (12 MB)
// outgrow both sockets' buffers while the client pauses 1 s; the access
// line counts the pause in the duration, not in overhead_us.
func TestStreamClientWaitIsNotOverhead(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		for i := 0; i < 1500; i++ {
			_, _ = io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"`+strconv.Itoa(i)+strings.Repeat("x", 8000)+`"},"finish_reason":null}]}`+"\n\n")
			fl.Flush()
		}
		_, _ = io.WriteString(w, "data: [DONE]\n\n")
	})
	sink := &syncBuffer{}
	gw, _ := startObserved(t, testConfig(dep(0, "m", "openai/m", up.base(), "sk-up")),
		Options{ObserveOptions: ObserveOptions{AccessLog: true, AccessLogOut: sink}})
	conn, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Not so small that the window stays under loopback's 64 KB
	// segment: the kernel would then wait for its window probes.
	_ = conn.(*net.TCPConn).SetReadBuffer(128 << 10)
	writeRequest(t, conn, "POST", "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`, "Authorization: Bearer "+testMasterKey)
	time.Sleep(time.Second) // not reading
	b, err := readStream(t, conn)
	if err != nil || !strings.Contains(string(b), "[DONE]") {
		t.Fatalf("stream: %d bytes, %v", len(b), err)
	}
	var line string
	waitFor(t, 5*time.Second, "the access line", func() bool { line = sink.String(); return strings.Contains(line, "overhead_us=") })
	field := func(name string) time.Duration {
		m := regexp.MustCompile(` ` + name + `=(\d+)`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("no %s in %q", name, line)
		}
		n, _ := strconv.Atoi(m[1])
		return time.Duration(n) * time.Microsecond
	}
	dur, over := field("duration_us"), field("overhead_us")
	if dur < 900*time.Millisecond {
		t.Fatalf("duration %v: the client's pause did not hold the stream up (the test did not test)", dur)
	}
	// What is not overhead (waits on the client and the upstream) holds
	// most of the pause: the writes block once the buffers are full, a
	// few MB into the stream (relaying 12 MB is llmedge's own time, long
	// under -race).
	if dur-over < 500*time.Millisecond {
		t.Errorf("overhead %v of a %v stream: the client's 1 s pause counted as llmedge's", over, dur)
	}
}

// readStream reads one response from conn, within 10 s: its body, and
// how reading it ended.
func readStream(t *testing.T, conn net.Conn) ([]byte, error) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
