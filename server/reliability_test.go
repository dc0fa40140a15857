package server

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/openai/openai-go/v3/option"
)

// Fault-injection tests of the router: each asserts what the client got
// and how many calls each fake upstream saw.

const chatBody = `{"model":"m","messages":[{"role":"user","content":"x"}]}`
const streamReq = `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`

// relConfig is testConfig with router_settings (fast backoff unless the
// test sets its own).
func relConfig(router map[string]any, deps ...*config.Deployment) *config.Config {
	cfg := testConfig(deps...)
	r := map[string]any{"retry_backoff_seconds": 0.01, "retry_backoff_max_seconds": 0.05}
	for k, v := range router {
		r[k] = v
	}
	setSettings(cfg, "router_settings", r)
	return cfg
}

// sequence answers the n-th request (from 0) with steps[n], the last
// step repeating.
func sequence(steps ...func(http.ResponseWriter, *http.Request, []byte)) func(http.ResponseWriter, *http.Request, []byte) {
	var n atomic.Int32
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		i := int(n.Add(1)) - 1
		if i >= len(steps) {
			i = len(steps) - 1
		}
		steps[i](w, r, body)
	}
}

func status(code int, headers ...string) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		for _, h := range headers {
			k, v, _ := strings.Cut(h, ":")
			w.Header().Set(k, strings.TrimSpace(v))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"error":{"message":"injected %d","type":"api_error","param":null,"code":null}}`, code)
	}
}

// resetConn closes the TCP connection without an answer.
func resetConn(w http.ResponseWriter, r *http.Request, body []byte) {
	if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
	}
}

// headersThenWait sends the SSE headers and then waits (for the first
// event that never comes) until d or the client leaves.
func headersThenWait(d time.Duration) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(d):
		}
	}
}

func waitThen(d time.Duration, next func(http.ResponseWriter, *http.Request, []byte)) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(d):
		}
		next(w, r, body)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	for _, tc := range []struct {
		name, header string
		least        time.Duration
	}{
		{"retry-after seconds", "Retry-After: 1", time.Second},
		{"retry-after-ms", "Retry-After-Ms: 300", 300 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newFakeOpenAI(t)
			up.setHandler(sequence(status(429, tc.header), answerJSON("after the wait")))
			gw := startGateway(t, relConfig(nil, dep(0, "m", "openai/m", up.base(), "k")))
			start := time.Now()
			resp := rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey)
			took := time.Since(start)
			if resp.StatusCode != 200 || !strings.Contains(resp.Body, "after the wait") {
				t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
			}
			if n := len(up.requests()); n != 2 {
				t.Fatalf("upstream calls = %d, want 2", n)
			}
			if took < tc.least {
				t.Fatalf("retried after %s, before the upstream's %s", took, tc.least)
			}
			if got := resp.Header.Get("X-Llmedge-Attempts"); got != "2" {
				t.Fatalf("x-llmedge-attempts = %q", got)
			}
		})
	}
}

// A Retry-After longer than max_retry_wait_seconds is not waited for:
// the client gets the 429 and the Retry-After at once.
func TestRetryAfterBeyondCapIsReturned(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(status(429, "Retry-After: 20"))
	gw := startGateway(t, relConfig(map[string]any{"max_retry_wait_seconds": int64(5)}, dep(0, "m", "openai/m", up.base(), "k")))
	start := time.Now()
	resp := rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "20" {
		t.Fatalf("status %d retry-after %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if time.Since(start) > 3*time.Second || len(up.requests()) != 1 {
		t.Fatalf("took %s with %d upstream calls", time.Since(start), len(up.requests()))
	}
}

func Test503ThenFallback(t *testing.T) {
	bad := newFakeOpenAI(t)
	bad.setHandler(status(503))
	good := newFakeOpenAI(t)
	cfg := relConfig(map[string]any{
		"num_retries": int64(2),
		"fallbacks":   []any{map[string]any{"m": []any{"missing-group", "backup"}}},
	}, dep(0, "m", "openai/m", bad.base(), "k"), dep(1, "backup", "openai/backup-model", good.base(), "k"))
	gw := startGateway(t, cfg)
	client := sdk(gw, testMasterKey)
	p := userMsg("x")
	p.Model = "m"
	var hdr *http.Response
	comp, err := client.Chat.Completions.New(context.Background(), p, option.WithResponseInto(&hdr))
	if err != nil {
		t.Fatal(err)
	}
	if comp.Choices[0].Message.Content != "Hello from the fake upstream." {
		t.Fatalf("content %q", comp.Choices[0].Message.Content)
	}
	if n := len(bad.requests()); n != 3 {
		t.Fatalf("failing deployment saw %d calls, want 1 + 2 retries", n)
	}
	if n := len(good.requests()); n != 1 || upstreamModel(good.requests()[0].Body) != "backup-model" {
		t.Fatalf("fallback saw %d calls", n)
	}
	if hdr.Header.Get("X-Llmedge-Attempts") != "4" || hdr.Header.Get("X-Llmedge-Model-Id") != "backup-1" {
		t.Fatalf("attempts %q model-id %q", hdr.Header.Get("X-Llmedge-Attempts"), hdr.Header.Get("X-Llmedge-Model-Id"))
	}
}

func TestContextWindowFallback(t *testing.T) {
	small := newFakeOpenAI(t)
	small.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		io.WriteString(w, `{"error":{"message":"This model's maximum context length is 8192 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`)
	})
	big := newFakeOpenAI(t)
	cfg := relConfig(map[string]any{
		"context_window_fallbacks": []any{map[string]any{"m": []any{"big"}}},
		"fallbacks":                []any{map[string]any{"m": []any{"never"}}},
	}, dep(0, "m", "openai/m", small.base(), "k"), dep(1, "big", "openai/big", big.base(), "k"), dep(2, "never", "openai/never", "http://127.0.0.1:1/v1", "k"))
	gw := startGateway(t, cfg)
	resp := rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey)
	if resp.StatusCode != 200 || len(small.requests()) != 1 || len(big.requests()) != 1 {
		t.Fatalf("status %d, small %d calls, big %d calls: %s", resp.StatusCode, len(small.requests()), len(big.requests()), resp.Body)
	}
	// A plain 400 is the client's fault: no retry, no fallback.
	small.setHandler(status(400))
	resp = rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey)
	if resp.StatusCode != 400 || len(small.requests()) != 2 || len(big.requests()) != 1 {
		t.Fatalf("plain 400: status %d, small %d, big %d", resp.StatusCode, len(small.requests()), len(big.requests()))
	}
}

func TestConnectionResetBeforeFirstEventIsRetried(t *testing.T) {
	headersThenReset := func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		resetConn(w, r, body)
	}
	commentThenReset := func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, ": OPENROUTER PROCESSING\n\n")
		w.(http.Flusher).Flush()
		resetConn(w, r, body)
	}
	for _, first := range []func(http.ResponseWriter, *http.Request, []byte){resetConn, headersThenReset, commentThenReset} {
		testResetBeforeFirstEvent(t, first)
	}
}

func testResetBeforeFirstEvent(t *testing.T, first func(http.ResponseWriter, *http.Request, []byte)) {
	up := newFakeOpenAI(t)
	up.setHandler(sequence(first, streamWords([]string{"clean", "answer"}, 0, nil)))
	gw := startGateway(t, relConfig(nil, dep(0, "m", "openai/m", up.base(), "k")))
	resp := rawPost(t, gw, "/v1/chat/completions", streamReq, testMasterKey)
	if resp.StatusCode != 200 || strings.Contains(resp.Body, `"error"`) || strings.Count(resp.Body, `"role":"assistant"`) != 1 || strings.Contains(resp.Body, "PROCESSING") {
		t.Fatalf("status %d body %q", resp.StatusCode, resp.Body)
	}
	if !strings.Contains(resp.Body, `"content":"clean "`) || !strings.HasSuffix(resp.Body, "data: [DONE]\n\n") {
		t.Fatalf("body %q", resp.Body)
	}
	if n := len(up.requests()); n != 2 {
		t.Fatalf("upstream calls = %d, want 2", n)
	}
}

// After the first event a failure is an error event and a clean end;
// never a retry that would splice a second answer in.
func TestConnectionResetAfterFirstEventIsNotRetried(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"par\"},\"finish_reason\":null}]}\n\n")
		w.(http.Flusher).Flush()
		time.Sleep(20 * time.Millisecond)
		resetConn(w, r, body)
	})
	good := newFakeOpenAI(t)
	gw := startGateway(t, relConfig(map[string]any{"fallbacks": []any{map[string]any{"m": []any{"b"}}}},
		dep(0, "m", "openai/m", up.base(), "k"), dep(1, "b", "openai/b", good.base(), "k")))
	resp := rawPost(t, gw, "/v1/chat/completions", streamReq, testMasterKey)
	if !strings.Contains(resp.Body, `"content":"par"`) || !strings.Contains(resp.Body, `data: {"error":`) || !strings.HasSuffix(resp.Body, "data: [DONE]\n\n") {
		t.Fatalf("body %q", resp.Body)
	}
	if len(up.requests()) != 1 || len(good.requests()) != 0 {
		t.Fatalf("calls: failing %d, fallback %d; want 1 and 0", len(up.requests()), len(good.requests()))
	}
}

func TestFirstByteSlowerThanStreamTimeout(t *testing.T) {
	for _, tc := range []struct {
		name string
		slow func(http.ResponseWriter, *http.Request, []byte)
	}{
		{"no headers", waitThen(3*time.Second, streamWords([]string{"late"}, 0, nil))},
		{"headers but no event", headersThenWait(3 * time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newFakeOpenAI(t)
			up.setHandler(sequence(tc.slow, streamWords([]string{"fast"}, 0, nil)))
			d := dep(0, "m", "openai/m", up.base(), "k")
			d.StreamTimeout = 200 * time.Millisecond
			gw := startGateway(t, relConfig(nil, d))
			start := time.Now()
			resp := rawPost(t, gw, "/v1/chat/completions", streamReq, testMasterKey)
			if resp.StatusCode != 200 || !strings.Contains(resp.Body, `"content":"fast"`) || strings.Contains(resp.Body, "late") || strings.Contains(resp.Body, `"error"`) {
				t.Fatalf("status %d body %q", resp.StatusCode, resp.Body)
			}
			if took := time.Since(start); took < 200*time.Millisecond || took > 2*time.Second {
				t.Fatalf("took %s", took)
			}
			if n := len(up.requests()); n != 2 || resp.Header.Get("X-Llmedge-Attempts") != "2" {
				t.Fatalf("upstream calls = %d, attempts %q", n, resp.Header.Get("X-Llmedge-Attempts"))
			}
		})
	}
}

func TestNonStreamTimeoutBoundsWholeCall(t *testing.T) {
	up := newFakeOpenAI(t)
	// Headers at once, then a body that trickles past the timeout.
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		for i := 0; i < 40; i++ {
			io.WriteString(w, " ")
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	d := dep(0, "m", "openai/m", up.base(), "k")
	d.Timeout = 300 * time.Millisecond
	gw := startGateway(t, relConfig(map[string]any{"num_retries": int64(0)}, d))
	start := time.Now()
	resp := rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey)
	if resp.StatusCode != 408 || time.Since(start) > 1500*time.Millisecond {
		t.Fatalf("status %d after %s: %s", resp.StatusCode, time.Since(start), resp.Body)
	}
}

func TestStalledStreamEndsWithErrorEvent(t *testing.T) {
	up := newFakeOpenAI(t)
	gate := make(chan struct{}) // never opened
	up.setHandler(streamWords([]string{"one", "two"}, 0, gate))
	d := dep(0, "m", "openai/m", up.base(), "k")
	d.StreamTimeout = 250 * time.Millisecond
	gw := startGateway(t, relConfig(nil, d))
	start := time.Now()
	resp := rawPost(t, gw, "/v1/chat/completions", streamReq, testMasterKey)
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("stall noticed after %s", took)
	}
	if !strings.Contains(resp.Body, `"content":"one `) || !strings.Contains(resp.Body, `"code":"upstream_timeout"`) || !strings.HasSuffix(resp.Body, "data: [DONE]\n\n") {
		t.Fatalf("body %q", resp.Body)
	}
	if strings.Contains(resp.Body, "two") || len(up.requests()) != 1 {
		t.Fatalf("calls %d body %q", len(up.requests()), resp.Body)
	}
}

func TestClientDisconnectDuringBackoff(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(status(429, "Retry-After: 10"))
	gw := startGateway(t, relConfig(map[string]any{"max_retry_wait_seconds": int64(60)}, dep(0, "m", "openai/m", up.base(), "k")))
	conn, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	writeRequest(t, conn, "POST", "/v1/chat/completions", chatBody, "Authorization: Bearer "+testMasterKey)
	waitFor(t, 3*time.Second, "the first upstream call", func() bool { return len(up.requests()) == 1 })
	waitFor(t, 3*time.Second, "the gateway to sit in backoff", func() bool { return gw.srv.InFlight() == 1 })
	time.Sleep(50 * time.Millisecond)
	conn.Close()
	waitFor(t, 2*time.Second, "the backoff to end on disconnect", func() bool { return gw.srv.InFlight() == 0 })
	if n := len(up.requests()); n != 1 {
		t.Fatalf("upstream calls = %d, want 1", n)
	}
}

func TestLeastBusyRouting(t *testing.T) {
	slow, fast := newFakeOpenAI(t), newFakeOpenAI(t)
	release := make(chan struct{})
	slow.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
		answerJSON("slow")(w, r, body)
	})
	cfg := relConfig(nil, dep(0, "m", "openai/m", slow.base(), "k"), dep(1, "m", "openai/m", fast.base(), "k"))
	cfg.Router.RoutingStrategy = "least-busy"
	gw := startGateway(t, cfg)
	// Occupy one deployment; while it is busy every request goes to the
	// other.
	done := make(chan struct{})
	go func() {
		defer close(done)
		// rawPost may not fail the test from this goroutine: plain HTTP.
		c := &http.Client{Timeout: 10 * time.Second}
		for i := 0; i < 50 && len(slow.requests()) == 0; i++ {
			req, _ := http.NewRequest("POST", gw.url()+"/v1/chat/completions", strings.NewReader(chatBody))
			req.Header.Set("Authorization", "Bearer "+testMasterKey)
			if resp, err := c.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
	}()
	waitFor(t, 3*time.Second, "a call held by the slow deployment", func() bool { return len(slow.requests()) == 1 })
	before := len(fast.requests())
	for i := 0; i < 5; i++ {
		if r := rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey); r.Header.Get("X-Llmedge-Model-Id") != "m-1" {
			t.Fatalf("request %d went to %s while m-0 was busy", i, r.Header.Get("X-Llmedge-Model-Id"))
		}
	}
	close(release)
	<-done
	if len(fast.requests())-before != 5 || len(slow.requests()) != 1 {
		t.Fatalf("fast %d slow %d", len(fast.requests())-before, len(slow.requests()))
	}
}

func TestRPMLimitSkipsDeployment(t *testing.T) {
	a, b := newFakeOpenAI(t), newFakeOpenAI(t)
	da, db := dep(0, "m", "openai/m", a.base(), "k"), dep(1, "m", "openai/m", b.base(), "k")
	da.RPM, db.RPM = 2, 1
	gw := startGateway(t, relConfig(nil, da, db))
	for i := 0; i < 3; i++ {
		if r := rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey); r.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, r.StatusCode)
		}
	}
	if len(a.requests()) != 2 || len(b.requests()) != 1 {
		t.Fatalf("a=%d b=%d, want the limits 2 and 1", len(a.requests()), len(b.requests()))
	}
	r := rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey)
	if r.StatusCode != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("over every limit: %d %q", r.StatusCode, r.Header.Get("Retry-After"))
	}
}

// Cloudflare's clearance cookie set on one answer goes out on the next
// request to that host, whichever client sends it, and stops when it
// expires; it never reaches a client.
func TestCloudflareCookieKeptPerHost(t *testing.T) {
	up := newFakeOpenAI(t)
	var n atomic.Int32
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		if n.Add(1) == 1 {
			w.Header().Add("Set-Cookie", "cf_clearance=clear-1; Path=/; Max-Age=1; HttpOnly; SameSite=None")
			w.Header().Add("Set-Cookie", "__cf_bm=bm-1; Path=/; Max-Age=1800; HttpOnly")
			w.Header().Add("Set-Cookie", "other=x; Path=/elsewhere")
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok","refusal":null},"logprobs":null,"finish_reason":"stop"}]}`)
	})
	gw := startGateway(t, relConfig(nil, dep(0, "m", "openai/m", up.base(), "k")))
	r1 := rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey)
	if r1.Header.Get("Set-Cookie") != "" {
		t.Fatal("upstream cookie relayed to the client")
	}
	set := time.Now()
	// Another client (a fresh connection, the SDK) sends request 2.
	client := sdk(gw, testMasterKey)
	p := userMsg("x")
	p.Model = "m"
	if _, err := client.Chat.Completions.New(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	c2 := cookieNames(up.requests()[1].Header)
	if c2["cf_clearance"] != "clear-1" || c2["__cf_bm"] != "bm-1" || c2["other"] != "" {
		t.Fatalf("request 2 cookies %v", c2)
	}
	// After Max-Age=1 the clearance is gone, the other cookie stays.
	time.Sleep(time.Until(set.Add(1100 * time.Millisecond)))
	rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey)
	c3 := cookieNames(up.requests()[2].Header)
	if _, ok := c3["cf_clearance"]; ok || c3["__cf_bm"] != "bm-1" {
		t.Fatalf("request 3 cookies %v", c3)
	}
}

func cookieNames(h http.Header) map[string]string {
	out := map[string]string{}
	for _, line := range h.Values("Cookie") {
		for _, part := range strings.Split(line, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			if k != "" {
				out[k] = v
			}
		}
	}
	return out
}

func TestRedirectFollowedForNonStream(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.URL.Path == "/v1/chat/completions" {
			w.Header().Set("Set-Cookie", "route=r1; Path=/")
			w.Header().Set("Location", "/v2/chat/completions")
			w.WriteHeader(307)
			return
		}
		answerJSON("moved")(w, r, body)
	})
	gw := startGateway(t, relConfig(nil, dep(0, "m", "openai/m", up.base(), "k")))
	r := rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey)
	if r.StatusCode != 200 || !strings.Contains(r.Body, "moved") {
		t.Fatalf("status %d body %s", r.StatusCode, r.Body)
	}
	reqs := up.requests()
	if len(reqs) != 2 || reqs[1].Path != "/v2/chat/completions" || upstreamModel(reqs[1].Body) != "m" {
		t.Fatalf("requests %+v", reqs)
	}
	if cookieNames(reqs[1].Header)["route"] != "r1" || reqs[1].Header.Get("Authorization") != "Bearer k" {
		t.Fatalf("redirected request headers %v", reqs[1].Header)
	}
	// A redirect loop stops after 5 hops.
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Location", "/v1/chat/completions")
		w.WriteHeader(302)
	})
	before := len(up.requests())
	r = rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey)
	if r.StatusCode == 200 || len(up.requests())-before != 6 {
		t.Fatalf("loop: status %d after %d calls", r.StatusCode, len(up.requests())-before)
	}
}

// connection_pool.read_timeout catches a non-stream body that stalls
// long before the call's timeout.
func TestPoolReadTimeoutCatchesStalledBody(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		io.WriteString(w, `{"id":"x",`)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	d := dep(0, "m", "openai/m", up.base(), "k")
	d.Timeout = 10 * time.Second
	d.ConnectionPool = &config.ConnectionPool{ReadTimeout: 200 * time.Millisecond, MaxConnections: 4}
	gw := startGateway(t, relConfig(map[string]any{"num_retries": int64(0)}, d))
	start := time.Now()
	r := rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey)
	if r.StatusCode != 408 || time.Since(start) > 2*time.Second {
		t.Fatalf("status %d after %s", r.StatusCode, time.Since(start))
	}
}

func TestContentPolicyFallback(t *testing.T) {
	strict := newFakeOpenAI(t)
	strict.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		io.WriteString(w, `{"error":{"message":"The response was filtered due to the prompt triggering content management policy.","type":"invalid_request_error","param":"prompt","code":"content_filter"}}`)
	})
	lenient := newFakeOpenAI(t)
	gw := startGateway(t, relConfig(map[string]any{"content_policy_fallbacks": []any{map[string]any{"m": []any{"other"}}}},
		dep(0, "m", "openai/m", strict.base(), "k"), dep(1, "other", "openai/other", lenient.base(), "k")))
	r := rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey)
	if r.StatusCode != 200 || len(strict.requests()) != 1 || len(lenient.requests()) != 1 || r.Header.Get("X-Llmedge-Attempts") != "2" {
		t.Fatalf("status %d strict %d lenient %d", r.StatusCode, len(strict.requests()), len(lenient.requests()))
	}
}

// A stream call does not follow redirects: the client gets a 502 that
// says where to point api_base, and nothing is retried.
func TestRedirectOfStreamIsReported(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Location", "/v2/chat/completions?token=secret")
		w.WriteHeader(308)
	})
	gw := startGateway(t, relConfig(nil, dep(0, "m", "openai/m", up.base(), "k")))
	r := rawPost(t, gw, "/v1/chat/completions", streamReq, testMasterKey)
	if r.StatusCode != 502 || !strings.Contains(r.Body, "upstream_redirect") || !strings.Contains(r.Body, "/v2/chat/completions") || strings.Contains(r.Body, "secret") {
		t.Fatalf("status %d body %s", r.StatusCode, r.Body)
	}
	if n := len(up.requests()); n != 1 {
		t.Fatalf("upstream calls %d", n)
	}
}

// Upstream keep-alive comments before the first event keep a slow
// first token within stream_timeout; they are not relayed.
func TestUpstreamCommentsRenewFirstByteWait(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; i < 5; i++ {
			io.WriteString(w, ": OPENROUTER PROCESSING\n\n")
			w.(http.Flusher).Flush()
			time.Sleep(100 * time.Millisecond)
		}
		streamWords([]string{"thought"}, 0, nil)(w, r, body)
	})
	d := dep(0, "m", "openai/m", up.base(), "k")
	d.StreamTimeout = 250 * time.Millisecond
	gw := startGateway(t, relConfig(nil, d))
	resp := rawPost(t, gw, "/v1/chat/completions", streamReq, testMasterKey)
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, `"content":"thought"`) || strings.Contains(resp.Body, "PROCESSING") || len(up.requests()) != 1 {
		t.Fatalf("status %d calls %d body %q", resp.StatusCode, len(up.requests()), resp.Body)
	}
}
