package server

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/tracing"
	"github.com/llmedge/llmedge/internal/tracing/tracingtest"
	"github.com/llmedge/llmedge/upstream"
)

// The bytes llmedge writes, pinned: the upstream request and the
// client's answer of varied configs and requests, compared with golden
// files (testdata/wire). Only what changes from run to run is masked
// (ports, durations, dates, generated ids, span ids). Regenerate with
// go test -run TestWireBytes ./server -update-wire (and read the diff:
// a changed byte on the wire is a behaviour change).
var updateWire = flag.Bool("update-wire", false, "rewrite testdata/wire golden files")

// wireUpstream is a raw TCP upstream that records each request's bytes
// and answers with a fixed head carrying headers of every kind the
// relay filter sees (relayed, dropped, odd casing).
type wireUpstream struct {
	ln   net.Listener
	mu   sync.Mutex
	seen [][]byte
}

const wireAnswerHead = "HTTP/1.1 200 OK\r\n" +
	"Content-Type: %s\r\n" +
	"x-ratelimit-limit-requests: 1000\r\n" +
	"X-RateLimit-Remaining-Tokens: 999\r\n" +
	"X-RATELIMIT-RESET-TOKENS: 1s\r\n" +
	"x-ratelimit-: short\r\n" +
	"openai-processing-ms: 12\r\n" +
	"OpenAI-Version: 2020-10-01\r\n" +
	"Openai-Organization: org-secret\r\n" +
	"openai-project: proj-secret\r\n" +
	"retry-after: 3\r\n" +
	"Retry-After-Ms: 3000\r\n" +
	"retry-after-msx: no\r\n" +
	"Set-Cookie: sess=1; Path=/\r\n" +
	"X-Request-Id: upstream-id\r\n" +
	"request-id: req-upstream\r\n" +
	"anthropic-ratelimit-requests-limit: 50\r\n" +
	"Server: upstream/1\r\n" +
	"Content-Length: %d\r\n\r\n"

const (
	wireJSON      = `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hi."},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}`
	wireSSE       = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\ndata: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"total_tokens\":6}}\n\ndata: [DONE]\n\n"
	wireAnthropic = `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Hi."}],"stop_reason":"end_turn","usage":{"input_tokens":5,"output_tokens":2}}`
)

func startWireUpstream(t *testing.T) *wireUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &wireUpstream{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go u.serve(c)
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return u
}

func (u *wireUpstream) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		var head bytes.Buffer
		n := 0
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			head.WriteString(line)
			if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "content-length") {
				n, _ = strconv.Atoi(strings.TrimSpace(v))
			}
			if line == "\r\n" {
				break
			}
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(br, body); err != nil {
			return
		}
		u.mu.Lock()
		u.seen = append(u.seen, append(head.Bytes(), body...))
		u.mu.Unlock()
		ct, answer := "application/json", wireJSON
		switch {
		case strings.Contains(head.String(), "/messages"):
			answer = wireAnthropic
		case bytes.Contains(body, []byte(`"stream":true`)):
			ct, answer = "text/event-stream", wireSSE
		}
		if _, err := io.WriteString(c, sprintfWire(wireAnswerHead, ct, len(answer))+answer); err != nil {
			return
		}
	}
}

func sprintfWire(head, ct string, n int) string {
	head = strings.Replace(head, "%s", ct, 1)
	return strings.Replace(head, "%d", strconv.Itoa(n), 1)
}

func (u *wireUpstream) requests() [][]byte {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([][]byte(nil), u.seen...)
}

// wireExchange sends one raw request to the gateway (Connection: close)
// and returns the answer's bytes.
func wireExchange(t *testing.T, addr, path, body string, headers ...string) []byte {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var sb strings.Builder
	sb.WriteString("POST " + path + " HTTP/1.1\r\nHost: llmedge\r\nContent-Type: application/json\r\nConnection: close\r\n")
	for _, h := range headers {
		sb.WriteString(h + "\r\n")
	}
	sb.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, sb.String()); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var wireMasks = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(?m)^(X-Llmedge-[A-Za-z-]*Duration-Ms): [0-9.]+\r$`), "$1: N\r"},
	{regexp.MustCompile(`(?m)^Date: .*\r$`), "Date: D\r"},
	{regexp.MustCompile(`llmedge-[0-9a-f]+-[0-9a-f]+`), "llmedge-ID"},
	{regexp.MustCompile(`00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]`), "00-TRACE-SPAN-FL"},
	{regexp.MustCompile(`(?m)^(X-Ratelimit-Reset-[A-Za-z]+): .*\r$`), "$1: R\r"},
	{regexp.MustCompile(`"created":[0-9]+`), `"created":T`},
	// Tokens come back when a call finishes, which may be after its
	// client read the answer.
	{regexp.MustCompile(`(?m)^X-Ratelimit-Remaining-Tokens: [0-9]+\r$`), "X-Ratelimit-Remaining-Tokens: N\r"},
}

func maskWire(b []byte, up string) []byte {
	b = bytes.ReplaceAll(b, []byte(up), []byte("UPSTREAM"))
	for _, m := range wireMasks {
		b = m.re.ReplaceAll(b, []byte(m.with))
	}
	return b
}

type wireCase struct {
	name string
	// modelName ("" = gpt) and params (litellm_params' members) make
	// the one deployment; UP is the upstream's host:port.
	modelName, params string
	memory            bool // user_id_mappings on
	traced            bool
	general           string // more general_settings members
	key               string // the client's key ("" = the master key)
	path              string // "" = /v1/chat/completions
	body              string
	headers           []string
}

const (
	wireChat   = `{"model":"gpt","messages":[{"role":"user","content":"hi"}]}`
	wireStream = `{"model":"gpt","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	wireOpenAI = "model: openai/gpt-4o, api_base: http://UP/v1, api_key: sk-up"
)

var wireCases = []wireCase{
	{name: "plain", params: wireOpenAI,
		body: wireChat, headers: []string{"Authorization: Bearer KEY", "X-Request-Id: wire-1"}},
	{name: "stream", params: wireOpenAI,
		body: wireStream, headers: []string{"Authorization: Bearer KEY", "x-REQUEST-id: Odd-Case.Id_2"}},
	{name: "stream-usage", params: `model: openai/gpt-4o, api_base: http://UP/v1, api_key: sk-up, tpm: 100000`,
		body: wireStream, headers: []string{"Authorization: Bearer KEY"}},
	{name: "extra-headers", params: `model: openai/gpt-4o, api_base: http://UP/v1/, organization: org-1, extra_headers: {x-Custom-HEADER: "v1", OpenAI-Beta: "assistants=v2", User-Agent: "ua/1", x-empty: "", X-Spaced: " a  b ", content-type: "text/plain"}`,
		body: wireChat, headers: []string{"Authorization: Bearer KEY", "X-Request-Id: has space"}},
	{name: "base-path-query", params: `model: openai/gpt-4o, api_base: "http://UP/proxy/openai/v1?tenant=a%20b", api_key: "Bearer-ish key"`,
		body: wireChat, headers: []string{"Authorization: Bearer KEY"}},
	{name: "base-path-dots", params: `model: openai/gpt-4o, api_base: "http://UP/a/../v1//x%2Fy/", api_key: sk-up`,
		body: wireChat, headers: []string{"Authorization: Bearer KEY"}},
	{name: "wildcard", modelName: "openai/*", params: `model: "openai/*", api_base: http://UP/v1, api_key: sk-up`,
		body: `{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`, headers: []string{"Authorization: Bearer KEY"}},
	{name: "user-id", memory: true, params: wireOpenAI,
		body: wireChat, headers: []string{"Authorization: Bearer KEY", "x-memory-user-id: carol"}},
	{name: "key-limited", params: `model: openai/gpt-4o, api_base: http://UP/v1, api_key: sk-up, rpm: 1000`,
		general: ", api_keys: [{key: sk-team-a-0123456789, rpm_limit: 1000, tpm_limit: 100000}]", key: "sk-team-a-0123456789",
		body: wireStream, headers: []string{"Authorization: Bearer KEY"}},
	{name: "azure", params: `model: azure/my-deploy, api_base: http://UP, api_key: az-key, api_version: "2024-10-21"`,
		body: wireChat, headers: []string{"Authorization: Bearer KEY"}},
	{name: "anthropic", params: `model: anthropic/claude-sonnet-4-5, api_base: http://UP, api_key: sk-ant`,
		body: wireChat, headers: []string{"Authorization: Bearer KEY"}},
	{name: "anthropic-native", path: "/v1/messages", params: `model: anthropic/claude-sonnet-4-5, api_base: http://UP, api_key: sk-ant, extra_headers: {anthropic-beta: "from-config"}`,
		body:    `{"model":"gpt","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`,
		headers: []string{"x-api-key: KEY", "anthropic-version: 2023-06-01", "anthropic-beta: from-client", "X-Request-Id: n-1"}},
	{name: "traced", traced: true, params: wireOpenAI,
		body: wireChat, headers: []string{"Authorization: Bearer KEY", "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "tracestate: k=v"}},
	{name: "no-key", params: `model: openai/gpt-4o, api_base: http://UP/v1`,
		body: wireChat, headers: []string{"Authorization: Bearer KEY"}},
}

func TestWireBytes(t *testing.T) {
	for _, tc := range wireCases {
		t.Run(tc.name, func(t *testing.T) {
			up := startWireUpstream(t)
			addr := up.ln.Addr().String()
			name := tc.modelName
			if name == "" {
				name = "gpt"
			}
			yaml := "model_list:\n  - model_name: \"" + name + "\"\n    litellm_params: {" + strings.ReplaceAll(tc.params, "UP", addr) + "}\n" +
				"general_settings: {master_key: " + testMasterKey + tc.general + "}\n"
			cfg := parseYAML(t, yaml)
			cfg.UserIDMappings.Configured = tc.memory
			gw := startWireGateway(t, cfg, tc.traced)
			var got bytes.Buffer
			key := tc.key
			if key == "" {
				key = testMasterKey
			}
			for i := range 2 { // the second on a kept-alive upstream connection
				hs := make([]string, len(tc.headers))
				for j, h := range tc.headers {
					hs[j] = strings.ReplaceAll(h, "KEY", key)
				}
				path := tc.path
				if path == "" {
					path = "/v1/chat/completions"
				}
				answer := wireExchange(t, gw.addr, path, tc.body, hs...)
				reqs := up.requests()
				if len(reqs) != i+1 {
					t.Fatalf("upstream saw %d requests, want %d; answer:\n%s", len(reqs), i+1, answer)
				}
				got.WriteString("--- upstream request ---\n")
				got.Write(maskWire(reqs[i], addr))
				got.WriteString("\n--- client answer ---\n")
				got.Write(maskWire(answer, addr))
				got.WriteString("\n")
			}
			golden := filepath.Join("testdata", "wire", tc.name+".txt")
			if *updateWire {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("wire bytes changed (%s):\n--- got ---\n%s\n--- want ---\n%s", golden, got.Bytes(), want)
			}
		})
	}
}

func startWireGateway(t *testing.T, cfg *config.Config, traced bool) *gateway {
	t.Helper()
	reg, err := upstream.NewRegistry(cfg, upstream.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	var o Options
	if traced {
		recv := tracingtest.StartHTTP(t)
		vars := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": recv.Endpoint, "OTEL_BSP_SCHEDULE_DELAY": "20"}
		tr, err := tracing.New(context.Background(), tracing.Options{Version: "test", LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
		o.ObserveOptions.Tracer = tr
	}
	srv := New(cfg, reg, o)
	return &gateway{srv: srv, reg: reg, addr: strings.TrimPrefix(serveOnLoopback(t, srv), "http://")}
}
