package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCORSAllowList(t *testing.T) {
	up := newFakeOpenAI(t)
	gw := startGateway(t, limitsConfig(map[string]any{"cors_allow_origins": []any{"https://app.example.com"}},
		dep(0, "m", "openai/m", up.base(), "k")))
	pre := rawRequest(t, gw, "OPTIONS", "/v1/chat/completions", "", "Origin: https://app.example.com", "Access-Control-Request-Method: POST")
	if pre.StatusCode != 204 || pre.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(pre.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight: %d %v", pre.StatusCode, pre.Header)
	}
	r := rawRequest(t, gw, "GET", "/v1/models", "", "Origin: https://app.example.com", "Authorization: Bearer "+testMasterKey)
	if r.StatusCode != 200 || r.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || r.Header.Get("Vary") != "Origin" {
		t.Fatalf("simple request: %d %v", r.StatusCode, r.Header)
	}
	evil := rawRequest(t, gw, "OPTIONS", "/v1/chat/completions", "", "Origin: https://evil.example", "Access-Control-Request-Method: POST")
	if evil.StatusCode != 405 || evil.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("other origin: %d %v", evil.StatusCode, evil.Header)
	}
	r = rawRequest(t, gw, "GET", "/v1/models", "", "Origin: https://evil.example", "Authorization: Bearer "+testMasterKey)
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS header for an origin not on the list")
	}
}

func TestCORSOffByDefault(t *testing.T) {
	up := newFakeOpenAI(t)
	gw := startGateway(t, testConfig(dep(0, "m", "openai/m", up.base(), "k")))
	r := rawRequest(t, gw, "GET", "/v1/models", "", "Origin: https://app.example.com", "Authorization: Bearer "+testMasterKey)
	if r.StatusCode != 200 || r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("%d %v", r.StatusCode, r.Header)
	}
}

func TestUpstreamErrorScrubbedOfEverySecret(t *testing.T) {
	up := newFakeOpenAI(t)
	const otherKey = "sk-other-deployment-key-abcdef"
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		_, _ = w.Write([]byte(`{"error":{"message":"Incorrect API key provided: ` + otherKey + `; also AIzaSyA1234567890abcdefghijklmnopqrstuv and sk-ant-api03-ABCDEFGHIJKLMNOPQRSTUV and team key sk-team-a-0123456789 and ` + testMasterKey + `","type":"invalid_request_error","code":"invalid_api_key"}}`))
	})
	d := dep(0, "m", "openai/m", up.base(), "sk-up-first")
	cfg := limitsConfig(map[string]any{"api_keys": []any{map[string]any{"key": "sk-team-a-0123456789"}}},
		d, dep(1, "n", "openai/n", up.base(), otherKey))
	gw := startGateway(t, cfg)
	r := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if r.StatusCode != 401 {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	for _, s := range []string{otherKey, "AIzaSy", "sk-ant-api03", "sk-team-a", testMasterKey} {
		if strings.Contains(r.Body, s) {
			t.Errorf("%q reached the client: %s", s, r.Body)
		}
	}
	if !strings.Contains(r.Body, "Incorrect API key provided: [REDACTED]") {
		t.Fatalf("message mangled: %s", r.Body)
	}
}

func TestServerLimitsFromGeneralSettings(t *testing.T) {
	up := newFakeOpenAI(t)
	gw := startGateway(t, limitsConfig(map[string]any{
		"max_request_size_mb":    "0.001", // os.environ values arrive as strings
		"max_header_bytes":       2048,
		"http_read_timeout":      0.3,
		"http_idle_timeout":      "200ms",
		"max_connections_per_ip": 7,
	}, dep(0, "m", "openai/m", up.base(), "k")))
	o := gw.srv.opts
	if o.MaxRequestBodySize != 1048 || o.MaxHeaderBytes != 2048 || o.ReadTimeout != 300*time.Millisecond || o.IdleTimeout != 200*time.Millisecond || o.MaxConnsPerIP != 7 {
		t.Fatalf("options not taken from general_settings: %+v", o)
	}
	if r := rawPost(t, gw, "/v1/chat/completions", hostileBody(`,"user":"`+strings.Repeat("x", 2000)+`"`), testMasterKey); r.StatusCode != 413 {
		t.Fatalf("body limit: %d", r.StatusCode)
	}
	// A connection that sends nothing is closed after the read timeout
	// (fasthttp with ReduceMemoryUsage closes it silently: it waits for
	// the first byte without a buffer); a keep-alive connection idle
	// past the idle timeout is closed.
	for _, first := range []bool{false, true} {
		c, err := net.Dial("tcp", gw.addr)
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if first {
			writeRequest(t, c, "GET", "/v1/models", "", "Authorization: Bearer "+testMasterKey)
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("first request: %v", err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
		}
		start := time.Now()
		rest, err := io.ReadAll(br)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("connection (first request %v) not closed by the server", first)
		}
		if !first && len(rest) > 0 && !strings.Contains(string(rest), "408") {
			t.Fatalf("silent connection: got %q", rest)
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("closed only after %s", time.Since(start))
		}
		c.Close()
	}
}

func TestMaxConnectionsPerIP(t *testing.T) {
	up := newFakeOpenAI(t)
	gw := startGateway(t, limitsConfig(map[string]any{"max_connections_per_ip": 2}, dep(0, "m", "openai/m", up.base(), "k")))
	var open []net.Conn
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	get := func() (int, error) {
		c, err := net.Dial("tcp", gw.addr)
		if err != nil {
			return 0, err
		}
		open = append(open, c)
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		writeRequest(t, c, "GET", "/v1/models", "", "Authorization: Bearer "+testMasterKey)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	for i := 0; i < 2; i++ {
		if code, err := get(); err != nil || code != 200 {
			t.Fatalf("connection %d: %d %v", i, code, err)
		}
	}
	// Both stay open (keep-alive); a third from the same IP is refused.
	if code, err := get(); err == nil && code != 429 {
		t.Fatalf("third connection served: %d", code)
	}
}

func TestReadinessShowsLimitStore(t *testing.T) {
	up := newFakeOpenAI(t)
	gw := startGateway(t, testConfig(dep(0, "m", "openai/m", up.base(), "k")))
	r := rawRequest(t, gw, "GET", "/health/readiness", "")
	if !strings.Contains(r.Body, `"rate_limits":{"store":"memory","healthy":true}`) {
		t.Fatal(r.Body)
	}
}
