package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/internal/allocs"
	"github.com/llmedge/llmedge/server/request"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// sendHead opens a connection and sends a POST's headers announcing a
// body of size bytes, then the first sent bytes of that body.
func sendHead(t *testing.T, gw *gateway, path string, size, sent int, headers ...string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	var sb strings.Builder
	sb.WriteString("POST " + path + " HTTP/1.1\r\nHost: llmedge\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(size) + "\r\n")
	for _, h := range headers {
		sb.WriteString(h + "\r\n")
	}
	sb.WriteString("\r\n")
	sb.WriteString(chatBodyPrefix(sent))
	_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, sb.String()); err != nil {
		t.Fatal(err)
	}
	return conn
}

// chatBodyPrefix is the first n bytes of a chat body padded with a long
// message; chatBodyRest completes it to size bytes.
func chatBodyPrefix(n int) string {
	const head = `{"model":"m","messages":[{"role":"user","content":"`
	return (head + strings.Repeat("x", n))[:n]
}

func chatBodyRest(sent, size int) string {
	const tail = `"}]}`
	return strings.Repeat("x", size-sent-len(tail)) + tail
}

// readAnswer reads one response from conn within 5 s.
func readAnswer(t *testing.T, conn net.Conn) (*http.Response, []byte) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer while the body is unsent: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("answer body: %v", err)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("connection left open after the refusal (read: %v)", err)
	}
	return resp, b
}

// An unauthenticated client announcing a 32 MiB body gets its 401 while
// it has sent the headers and 4 KiB, and the connection is closed: the
// gateway neither waits for nor holds the body (it used to read all of
// it, 32 MiB per connection, before looking at the key).
func TestUnauthenticatedLargeUploadRefusedUnread(t *testing.T) {
	up := newFakeOpenAI(t)
	gw := startGateway(t, testConfig(dep(0, "m", "openai/m", up.base(), "sk-up")))
	for _, tc := range []struct {
		name, path, key, shape string
	}{
		{"no key", "/v1/chat/completions", "", "openai"},
		{"wrong key", "/v1/chat/completions", "Authorization: Bearer sk-wrong-key-123", "openai"},
		{"messages", "/v1/messages", "x-api-key: sk-wrong-key-123", "anthropic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.key != "" {
				hdr = append(hdr, tc.key)
			}
			conn := sendHead(t, gw, tc.path, 32<<20, 4<<10, hdr...)
			resp, body := readAnswer(t, conn)
			if resp.StatusCode != 401 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var e struct {
				Type  string `json:"type"`
				Error struct {
					Type string `json:"type"`
					Code string `json:"code"`
				} `json:"error"`
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("not JSON: %s", body)
			}
			if tc.shape == "anthropic" && (e.Type != "error" || e.Error.Type != "authentication_error") ||
				tc.shape == "openai" && (e.Error.Type != "authentication_error" || e.Error.Code != "invalid_api_key") {
				t.Fatalf("%s error shape: %s", tc.shape, body)
			}
		})
	}
	if n := gw.srv.BodyBytesInFlight(); n != 0 {
		t.Fatalf("refused bodies hold %d bytes", n)
	}
	if len(up.requests()) != 0 {
		t.Fatal("a refused request reached the upstream")
	}
}

// Bodies over 16 KiB held at once are bounded by
// max_request_body_in_flight_mb: past it a key holder gets 503 with
// Retry-After at once, unread (not a hang), and the bytes come back
// when the holding request ends, whether it completes or times out.
func TestBodiesInFlightBound(t *testing.T) {
	up := newFakeOpenAI(t)
	cfg := testConfig(dep(0, "m", "openai/m", up.base(), "sk-up"))
	setSettings(cfg, "general_settings", map[string]any{"max_request_size_mb": 0.5, "max_request_body_in_flight_mb": 1, "http_read_timeout": "3s"})
	gw := startGateway(t, cfg)
	auth := "Authorization: Bearer " + testMasterKey
	const size = 400 << 10

	a := sendHead(t, gw, "/v1/chat/completions", size, 1000, auth)
	b := sendHead(t, gw, "/v1/chat/completions", size, 1000, auth)
	waitFor(t, 5*time.Second, "two bodies admitted", func() bool { return gw.srv.BodyBytesInFlight() == 2*size })

	c := sendHead(t, gw, "/v1/chat/completions", size, 1000, auth)
	resp, body := readAnswer(t, c)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), `"code":"request_bodies_in_flight"`) {
		t.Fatalf("over the bound: %d Retry-After=%q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	m := sendHead(t, gw, "/v1/messages", size, 1000, "x-api-key: "+testMasterKey)
	if resp, body := readAnswer(t, m); resp.StatusCode != 503 || !strings.Contains(string(body), `"overloaded_error"`) {
		t.Fatalf("over the bound on /v1/messages: %d %s", resp.StatusCode, body)
	}

	// a completes: its answer comes and its bytes are returned.
	_ = a.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(a, chatBodyRest(1000, size)); err != nil {
		t.Fatal(err)
	}
	_ = a.SetReadDeadline(time.Now().Add(5 * time.Second))
	ra, err := http.ReadResponse(bufio.NewReader(a), nil)
	if err != nil || ra.StatusCode != 200 {
		t.Fatalf("admitted body: %v %v", ra, err)
	}
	ra.Body.Close()
	// b stalls: http_read_timeout cuts it with 408 and frees its bytes.
	_ = b.SetReadDeadline(time.Now().Add(5 * time.Second))
	rb, err := http.ReadResponse(bufio.NewReader(b), nil)
	if err != nil || rb.StatusCode != 408 {
		t.Fatalf("stalled upload: %v %v", rb, err)
	}
	waitFor(t, 5*time.Second, "body bytes back to 0", func() bool { return gw.srv.BodyBytesInFlight() == 0 })

	// Room again.
	r := rawPost(t, gw, "/v1/chat/completions", chatBodyPrefix(1000)+chatBodyRest(1000, size), testMasterKey)
	if r.StatusCode != 200 {
		t.Fatalf("after the bound freed: %d %s", r.StatusCode, r.Body)
	}
	// Its hold is released when fasthttp ends the request, which may be
	// after the client has read the answer.
	waitFor(t, 5*time.Second, "the last body's bytes back", func() bool { return gw.srv.BodyBytesInFlight() == 0 })
}

// A budget smaller than the largest body would refuse such bodies
// forever: the config is rejected, naming the key.
func TestBodiesInFlightBelowMaxBodyRejected(t *testing.T) {
	cfg := testConfig()
	setSettings(cfg, "general_settings", map[string]any{"max_request_size_mb": 64, "max_request_body_in_flight_mb": 32})
	err := CheckConfig(cfg)
	if err == nil || !strings.Contains(err.Error(), "max_request_body_in_flight_mb") {
		t.Fatalf("want an error naming max_request_body_in_flight_mb, got %v", err)
	}
}

// BenchmarkBodyAdmission is what a body over 16 KiB adds to its
// request: the key check and bytes-in-flight reservation from the
// headers, the hold's hand-over to the request and its release.
func BenchmarkBodyAdmission(b *testing.B) {
	admit, s := bodyAdmitter(b)
	b.ReportAllocs()
	for b.Loop() {
		admit()
	}
	if s.BodyBytesInFlight() != 0 {
		b.Fatal("bytes left in flight")
	}
}

// bodyAdmitter admits a 64 KiB body from a known key's headers and ends
// its request.
func bodyAdmitter(tb testing.TB) (func(), *Server) {
	cfg := testConfig()
	reg, err := upstream.NewRegistry(cfg, upstream.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	s := New(cfg, reg, Options{})
	var req fasthttp.Request
	req.Header.SetMethod("POST")
	req.Header.SetContentLength(64 << 10)
	req.Header.Set("Authorization", "Bearer "+testMasterKey)
	return func() {
		s.admitBody(&req.Header)
		s.bodies.take(&req)
		req.ResetUserValues()
	}, s
}

func TestBodyAdmissionAllocs(t *testing.T) {
	admit, _ := bodyAdmitter(t)
	allocs.None(t, "admitting a large body from its headers", 1000, admit)
}

// A streamed answer lets its large request body go once its first
// event is out: the bytes go back to max_request_body_in_flight_mb's
// budget while the stream stays open, so a gateway whose budget holds
// two long prompts serves any number of long streams of them one after
// another (each used to hold its body to its end, and the third was
// refused with 503). Chat passed through and Claude's /v1/messages
// translated to chat; with and without keepalive pings (which run the
// call inside the stream body). The streams end whole, the model named
// as the client named it.
func TestOpenStreamsHoldNoRequestBody(t *testing.T) {
	for _, keepalive := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "keepalive"}[keepalive], func(t *testing.T) {
			up := newFakeOpenAI(t)
			release := make(chan struct{})
			up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
				w.Header().Set("Content-Type", "text/event-stream")
				chunk := func(delta, finish string) {
					fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m-up\",\"choices\":[{\"index\":0,\"delta\":%s,\"finish_reason\":%s}]}\n\n", delta, finish)
					w.(http.Flusher).Flush()
				}
				chunk(`{"role":"assistant","content":"first"}`, "null")
				select {
				case <-release:
				case <-r.Context().Done():
					return
				}
				chunk(`{"content":" second"}`, "null")
				chunk(`{}`, `"stop"`)
				io.WriteString(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m-up\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11}}\n\ndata: [DONE]\n\n")
			})
			cfg := testConfig(dep(0, "m", "openai/m", up.base(), "sk-up"))
			gs := map[string]any{"max_request_size_mb": 0.5, "max_request_body_in_flight_mb": 1}
			if keepalive {
				gs["stream_keepalive_seconds"] = int64(5)
			}
			setSettings(cfg, "general_settings", gs)
			gw := startGateway(t, cfg)

			const size = 400 << 10
			pad := strings.Repeat("x", size)
			type open struct {
				conn net.Conn
				br   *bufio.Reader
				resp *http.Response
				path string
			}
			var streams []open
			for i := range 5 {
				path, auth := "/v1/chat/completions", "Authorization: Bearer "+testMasterKey
				body := `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"` + pad + `"}]}`
				if i%2 == 1 {
					path, auth = "/v1/messages", "x-api-key: "+testMasterKey
					body = `{"model":"m","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"` + pad + `"}]}`
				}
				conn, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = conn.Close() })
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				head := "POST " + path + " HTTP/1.1\r\nHost: llmedge\r\nContent-Type: application/json\r\n" + auth + "\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
				if _, err := io.WriteString(conn, head+body); err != nil {
					t.Fatal(err)
				}
				br := bufio.NewReader(conn)
				resp, err := http.ReadResponse(br, nil)
				if err != nil || resp.StatusCode != 200 {
					var b []byte
					if resp != nil {
						b, _ = io.ReadAll(resp.Body)
					}
					t.Fatalf("stream %d (%s) with %d open before it: %v %v %s", i, path, i, resp, err, b)
				}
				// Its first event, past keepalive pings.
				ev := bufio.NewReader(resp.Body)
				for {
					line, err := ev.ReadString('\n')
					if err != nil {
						t.Fatalf("stream %d: no first event: %v", i, err)
					}
					if strings.HasPrefix(line, "data: ") {
						break
					}
				}
				resp.Body = io.NopCloser(ev)
				streams = append(streams, open{conn, br, resp, path})
				waitFor(t, 5*time.Second, "the open streams' body bytes back", func() bool { return gw.srv.BodyBytesInFlight() == 0 })
			}
			close(release)
			for i, s := range streams {
				rest, err := io.ReadAll(s.resp.Body)
				if err != nil {
					t.Fatalf("stream %d: %v", i, err)
				}
				text := string(rest)
				switch s.path {
				case "/v1/messages":
					if !strings.Contains(text, `"text":" second"`) || !strings.Contains(text, `"type":"message_stop"`) || !strings.Contains(text, `"output_tokens":2`) {
						t.Fatalf("stream %d (messages) not whole: %s", i, text)
					}
				default:
					if !strings.Contains(text, `"content":" second"`) || !strings.Contains(text, `"completion_tokens":2`) || !strings.HasSuffix(text, "data: [DONE]\n\n") {
						t.Fatalf("stream %d (chat) not whole: %s", i, text)
					}
				}
			}
			if n := len(up.requests()); n != 5 {
				t.Fatalf("upstream saw %d requests, want 5", n)
			}
			for i, r := range up.requests() {
				if len(r.Body) < size || !strings.Contains(string(r.Body), `"model":"m"`) {
					t.Fatalf("request %d reached the upstream as %d bytes: %.200s", i, len(r.Body), r.Body)
				}
			}
		})
	}
}

type noModels struct{}

func (noModels) Known([]byte) bool { return false }

// letBodyGo leaves nothing of the call, its answer or the request
// referring to the body: its buffer is freed (its finalizer runs) while
// they live on, and the model name and betas, copied out, read the
// same.
func TestLetBodyGoFreesTheBody(t *testing.T) {
	s := &Server{bodies: newBodyBudget(1 << 30)}
	ctx := new(fasthttp.RequestCtx)
	c := new(call)
	resp := upstream.AcquireResponse()
	defer upstream.ReleaseResponse(resp)
	freed := make(chan struct{})
	func() {
		body := []byte(`{"model":"claude-x,beta-1","stream":true,"messages":[{"role":"user","content":"` + strings.Repeat("x", 64<<10) + `"}]}`)
		runtime.SetFinalizer(&body[0], func(*byte) { close(freed) })
		ctx.Request.SwapBody(body)
		b := ctx.PostBody()
		if err := request.Scan(b, &c.fields, true); err != nil {
			t.Fatal(err)
		}
		request.SplitBetas(&c.fields, noModels{})
		c.setRequest(b, upstream.RouteChat, &apiKey{id: "k"}, false)
		// As on /v1/messages, whose betas may be the model's suffix.
		c.anth.Beta = c.fields.Betas
		c.req.Anthropic = &c.anth
	}()
	s.letBodyGo(ctx, c, resp)
	if c.req.Body != nil || len(ctx.Request.Body()) != 0 {
		t.Fatalf("body kept: call %d bytes, request %d", len(c.req.Body), len(ctx.Request.Body()))
	}
	for what, got := range map[string][]byte{"fields.Model": c.fields.Model, "req.Model": c.req.Model} {
		if string(got) != "claude-x" {
			t.Fatalf("%s = %q after the body went", what, got)
		}
	}
	for what, got := range map[string][]byte{"fields.Betas": c.fields.Betas, "req.AnthropicBeta": c.req.AnthropicBeta, "anth.Beta": c.anth.Beta} {
		if string(got) != "beta-1" {
			t.Fatalf("%s = %q after the body went", what, got)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		select {
		case <-freed:
			runtime.KeepAlive(c)
			runtime.KeepAlive(ctx)
			return
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the body's buffer is still referred to after letBodyGo")
		}
	}
}
