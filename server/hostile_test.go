package server

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/server/request"
)

// hostileCase is one malformed or hostile request and the answer it
// must get. raw is the whole request as sent on a fresh connection;
// when pause > 0, raw is sent, the client waits pause, and the rest
// (more) never comes or comes late.
type hostileCase struct {
	name   string
	raw    string
	pause  time.Duration
	status int
	param  string // expected error param ("" = not checked)
}

const validMsgs = `"messages":[{"role":"user","content":"hi"}]`

func chatReq(body string, headers ...string) string {
	h := "POST /v1/chat/completions HTTP/1.1\r\nHost: llmedge\r\nAuthorization: Bearer " + testMasterKey + "\r\nContent-Type: application/json\r\n"
	for _, x := range headers {
		h += x + "\r\n"
	}
	return h + "Content-Length: " + itoa(len(body)) + "\r\n\r\n" + body
}

func hostileBody(extra string) string { return `{"model":"m",` + validMsgs + extra + `}` }

func hostileCases() []hostileCase {
	long := strings.Repeat("a", 8<<10)
	manyMsgs := `{"model":"m","messages":[` + strings.Repeat(`{"role":"user"},`, request.MaxMessages) + `{"role":"user"}]}`
	return []hostileCase{
		// Bad JSON.
		{name: "empty body", raw: chatReq(""), status: 400},
		{name: "null", raw: chatReq("null"), status: 400},
		{name: "array", raw: chatReq("[]"), status: 400},
		{name: "string", raw: chatReq(`"hi"`), status: 400},
		{name: "number", raw: chatReq(`42`), status: 400},
		{name: "unterminated object", raw: chatReq(`{"model":"m"`), status: 400},
		{name: "unterminated string", raw: chatReq(`{"model":"m`), status: 400},
		{name: "trailing garbage", raw: chatReq(hostileBody("") + "x"), status: 400},
		{name: "two objects", raw: chatReq(hostileBody("") + hostileBody("")), status: 400},
		{name: "trailing comma", raw: chatReq(`{"model":"m",` + validMsgs + `,}`), status: 400},
		{name: "single quotes", raw: chatReq(`{'model':'m'}`), status: 400},
		{name: "NaN", raw: chatReq(hostileBody(`,"temperature":NaN`)), status: 400},
		{name: "Infinity", raw: chatReq(hostileBody(`,"top_p":Infinity`)), status: 400},
		{name: "number overflow", raw: chatReq(hostileBody(`,"temperature":1e999`)), status: 400},
		{name: "leading zero", raw: chatReq(hostileBody(`,"n":01`)), status: 400},
		{name: "bad escape", raw: chatReq(hostileBody(`,"user":"\q"`)), status: 400},
		{name: "short unicode escape", raw: chatReq(hostileBody(`,"user":"\u12"`)), status: 400},
		{name: "raw control char", raw: chatReq(hostileBody(",\"user\":\"a\x00b\"")), status: 400},
		{name: "invalid UTF-8", raw: chatReq(hostileBody(",\"user\":\"\xc3\x28\"")), status: 400},
		{name: "overlong UTF-8", raw: chatReq(hostileBody(",\"user\":\"\xc0\xaf\"")), status: 400},
		{name: "UTF-8 BOM", raw: chatReq("\xef\xbb\xbf" + hostileBody("")), status: 400},
		{name: "comment", raw: chatReq(`{/*x*/"model":"m",` + validMsgs + `}`), status: 400},
		{name: "deep nesting", raw: chatReq(hostileBody(`,"x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000))), status: 400},
		{name: "deep unbalanced", raw: chatReq(hostileBody(`,"x":` + strings.Repeat(`{"a":`, 3000))), status: 400},
		// Wrong types and values.
		{name: "model missing", raw: chatReq(`{` + validMsgs + `}`), status: 400, param: "model"},
		{name: "model number", raw: chatReq(`{"model":1,` + validMsgs + `}`), status: 400, param: "model"},
		{name: "model empty", raw: chatReq(`{"model":"",` + validMsgs + `}`), status: 400, param: "model"},
		{name: "model null", raw: chatReq(`{"model":null,` + validMsgs + `}`), status: 400, param: "model"},
		{name: "model array", raw: chatReq(`{"model":["m"],` + validMsgs + `}`), status: 400, param: "model"},
		{name: "duplicate model", raw: chatReq(`{"model":"m","model":"x",` + validMsgs + `}`), status: 400, param: "model"},
		{name: "escaped model key", raw: chatReq(`{"model":"m","mod\u0065l":"x",` + validMsgs + `}`), status: 400},
		{name: "duplicate other key", raw: chatReq(hostileBody(`,"user":"a","user":"b"`)), status: 400, param: "user"},
		{name: "unknown model", raw: chatReq(`{"model":"nope",` + validMsgs + `}`), status: 404, param: "model"},
		{name: "messages missing", raw: chatReq(`{"model":"m"}`), status: 400, param: "messages"},
		{name: "messages empty", raw: chatReq(`{"model":"m","messages":[]}`), status: 400, param: "messages"},
		{name: "messages object", raw: chatReq(`{"model":"m","messages":{"role":"user"}}`), status: 400, param: "messages"},
		{name: "messages null", raw: chatReq(`{"model":"m","messages":null}`), status: 400, param: "messages"},
		{name: "message string", raw: chatReq(`{"model":"m","messages":["hi"]}`), status: 400, param: "messages[0]"},
		{name: "role missing", raw: chatReq(`{"model":"m","messages":[{"content":"hi"}]}`), status: 400, param: "messages[0].role"},
		{name: "role unknown", raw: chatReq(`{"model":"m","messages":[{"role":"user"},{"role":"root"}]}`), status: 400, param: "messages[1].role"},
		{name: "role number", raw: chatReq(`{"model":"m","messages":[{"role":1}]}`), status: 400, param: "messages[0].role"},
		{name: "role duplicate", raw: chatReq(`{"model":"m","messages":[{"role":"user","role":"system"}]}`), status: 400, param: "messages[0].role"},
		{name: "too many messages", raw: chatReq(manyMsgs), status: 400, param: "messages"},
		{name: "temperature high", raw: chatReq(hostileBody(`,"temperature":2.01`)), status: 400, param: "temperature"},
		{name: "temperature negative", raw: chatReq(hostileBody(`,"temperature":-1`)), status: 400, param: "temperature"},
		{name: "temperature string", raw: chatReq(hostileBody(`,"temperature":"0.5"`)), status: 400, param: "temperature"},
		{name: "top_p high", raw: chatReq(hostileBody(`,"top_p":1.5`)), status: 400, param: "top_p"},
		{name: "top_p bool", raw: chatReq(hostileBody(`,"top_p":true`)), status: 400, param: "top_p"},
		{name: "n zero", raw: chatReq(hostileBody(`,"n":0`)), status: 400, param: "n"},
		{name: "n fraction", raw: chatReq(hostileBody(`,"n":1.5`)), status: 400, param: "n"},
		{name: "n string", raw: chatReq(hostileBody(`,"n":"2"`)), status: 400, param: "n"},
		{name: "max_tokens zero", raw: chatReq(hostileBody(`,"max_tokens":0`)), status: 400, param: "max_tokens"},
		{name: "max_tokens negative", raw: chatReq(hostileBody(`,"max_tokens":-100`)), status: 400, param: "max_tokens"},
		{name: "max_completion_tokens object", raw: chatReq(hostileBody(`,"max_completion_tokens":{}`)), status: 400, param: "max_completion_tokens"},
		{name: "stream string", raw: chatReq(hostileBody(`,"stream":"true"`)), status: 400, param: "stream"},
		{name: "stream number", raw: chatReq(hostileBody(`,"stream":1`)), status: 400, param: "stream"},
		{name: "stream_options string", raw: chatReq(hostileBody(`,"stream_options":"x"`)), status: 400, param: "stream_options"},
		{name: "include_usage string", raw: chatReq(hostileBody(`,"stream_options":{"include_usage":"yes"}`)), status: 400, param: "stream_options.include_usage"},
		// Size limits.
		{name: "oversized body", raw: chatReq(hostileBody(`,"user":"` + strings.Repeat("x", 1<<20) + `"`)), status: 413},
		{name: "huge declared length", raw: "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + testMasterKey + "\r\nContent-Length: 10000000000\r\n\r\n{", status: 413},
		// Without a key, a large or chunked body is refused from the
		// headers, before its size or framing is looked at (bodyadmit.go).
		{name: "huge declared length, no key", raw: "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n{", status: 401},
		{name: "long URL", raw: "GET /v1/models?" + long + " HTTP/1.1\r\nHost: x\r\n\r\n", status: 431},
		{name: "huge header", raw: "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + long + "\r\n\r\n", status: 431},
		{name: "many headers", raw: "GET /v1/models HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-A: b\r\n", 1000) + "\r\n", status: 431},
		// Slow clients.
		{name: "slow headers", raw: "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ", pause: 1500 * time.Millisecond, status: 408},
		{name: "slow body", raw: "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + testMasterKey + "\r\nContent-Length: 100\r\n\r\n{\"model\"", pause: 1500 * time.Millisecond, status: 408},
		// Auth.
		{name: "no key", raw: "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", status: 401},
		{name: "wrong key", raw: "GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-wrong\r\n\r\n", status: 401},
		{name: "basic auth", raw: "GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\r\n", status: 401},
		{name: "key prefix only", raw: "GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + testMasterKey[:10] + "\r\n\r\n", status: 401},
		// Header injection and request smuggling attempts.
		{name: "NUL in header", raw: "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Request-Id: a\x00b\r\n\r\n", status: 400},
		{name: "space in header name", raw: "GET /v1/models HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n", status: 401},
		{name: "header without colon", raw: "GET /v1/models HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", status: 400},
		// A folded line must not smuggle a header in.
		{name: "obs-fold continuation", raw: "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-A: a\r\n Authorization: Bearer " + testMasterKey + "\r\n\r\n", status: 401},
		{name: "CR in request id", raw: "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Request-Id: a\rSet-Cookie: x=1\r\n\r\n", status: 400},
		{name: "conflicting content-length", raw: "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}", status: 400},
		{name: "negative content-length", raw: "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", status: 400},
		{name: "bad chunk size", raw: "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + testMasterKey + "\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", status: 400},
		{name: "chunked body, no key", raw: "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", status: 401},
		{name: "garbage request line", raw: "HELLO\r\n\r\n", status: 400},
		{name: "HTTP/2 preface on HTTP/1", raw: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", status: 400},
		// Routes and methods.
		{name: "unknown route", raw: "GET /v2/chat HTTP/1.1\r\nHost: x\r\n\r\n", status: 404},
		{name: "admin route", raw: "GET /key/generate HTTP/1.1\r\nHost: x\r\n\r\n", status: 404},
		{name: "path traversal", raw: "GET /v1/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", status: 404},
		{name: "encoded NUL path", raw: "GET /v1/models%00 HTTP/1.1\r\nHost: x\r\n\r\n", status: 404},
		{name: "GET chat", raw: "GET /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n", status: 405},
		{name: "PUT models", raw: "PUT /v1/models HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", status: 405},
		{name: "DELETE health", raw: "DELETE /health HTTP/1.1\r\nHost: x\r\n\r\n", status: 405},
		{name: "unknown method", raw: "BREW /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n", status: 405},
		{name: "OPTIONS without CORS", raw: "OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\nAccess-Control-Request-Method: POST\r\n\r\n", status: 405},
	}
}

// sendRaw writes raw on a new connection (pausing if asked) and reads
// one response.
func sendRaw(addr string, c hostileCase) (*http.Response, []byte, error) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, c.raw); err != nil && c.status < 413 {
		return nil, nil, err
	}
	if c.pause > 0 {
		time.Sleep(c.pause) // the server's read timeout is shorter
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestHostileRequests(t *testing.T) {
	up := newFakeOpenAI(t)
	cfg := limitsConfig(map[string]any{
		"max_request_size_mb": 1,
		"http_read_timeout":   "500ms",
		"max_header_bytes":    4096,
	}, dep(0, "m", "openai/m", up.base(), "sk-upstream-0123456789abcdef"))
	gw := startGateway(t, cfg)
	// Warm up (upstream connection pool, server worker), then count.
	if resp, _, err := sendRaw(gw.addr, hostileCase{raw: chatReq(hostileBody(""))}); err != nil || resp.StatusCode != 200 {
		t.Fatalf("warm-up: %v %v", err, resp)
	}
	base := runtime.NumGoroutine()
	cases := hostileCases()
	if len(cases) < 60 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		resp, body, err := sendRaw(gw.addr, c)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, resp.StatusCode, c.status, body)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: content-type %q", c.name, ct)
		}
		var e struct {
			Error *struct {
				Message string  `json:"message"`
				Type    string  `json:"type"`
				Param   *string `json:"param"`
			} `json:"error"`
		}
		if err := json.Unmarshal(body, &e); err != nil || e.Error == nil || e.Error.Message == "" || e.Error.Type == "" {
			t.Errorf("%s: not an OpenAI error: %s", c.name, body)
			continue
		}
		if c.param != "" && (e.Error.Param == nil || *e.Error.Param != c.param) {
			t.Errorf("%s: param %v, want %q (%s)", c.name, e.Error.Param, c.param, body)
		}
		if strings.Contains(string(body), testMasterKey) || strings.Contains(string(body), "sk-upstream") {
			t.Errorf("%s: secret in error body", c.name)
		}
	}
	// Still serving.
	resp, body, err := sendRaw(gw.addr, hostileCase{raw: chatReq(hostileBody(""))})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("server stopped serving: %v %v %s", err, resp, body)
	}
	// Nothing left behind: the goroutine count returns to what it was
	// before the hostile requests (fasthttp's idle workers exit after
	// 10s, hence the deadline).
	deadline := time.Now().Add(20 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d before, %d after\n%s", base, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
