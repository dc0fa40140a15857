package upstream_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/wait"
	"github.com/llmedge/llmedge/upstream"
	pt "github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/llmedge/llmedge/upstream/upstreamtest"
)

// Fault-injection tests of the retry loop against fake upstreams on
// loopback: each asserts what the client would get and how many calls
// each fake saw.

const (
	chatBody  = `{"model":"m","messages":[{"role":"user","content":"x"}]}`
	streamReq = `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`
)

// routerRegistry is a registry of deps with router_settings given as
// YAML mapping entries ("num_retries: 2, ..."), a fast backoff unless
// they set their own.
func routerRegistry(t *testing.T, router string, deps ...*config.Deployment) *upstream.Registry {
	t.Helper()
	settings := "router_settings: {retry_backoff_seconds: 0.01, retry_backoff_max_seconds: 0.05"
	if router != "" {
		settings += ", " + router
	}
	return upstreamtest.Registry(t, upstreamtest.Config(t, settings+"}", deps...), nil)
}

// openaiDep is an OpenAI-compatible deployment of group name on up.
func openaiDep(name string, up *pt.Upstream) *config.Deployment {
	return upstreamtest.Dep(name, "openai/"+name, up.URL()+"/v1", "k")
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
			up := pt.NewUpstream(t, pt.Sequence(pt.Status(429, tc.header), pt.OpenAIAnswer("after the wait")))
			reg := routerRegistry(t, "", openaiDep("m", up))
			start := time.Now()
			r := upstreamtest.Chat(t, reg, chatBody)
			took := time.Since(start)
			if r.Status != 200 || !strings.Contains(r.Body, "after the wait") {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			if n := len(up.Requests()); n != 2 || r.Attempts != 2 {
				t.Fatalf("upstream calls = %d, attempts %d, want 2", n, r.Attempts)
			}
			if took < tc.least {
				t.Fatalf("retried after %s, before the upstream's %s", took, tc.least)
			}
		})
	}
}

// A Retry-After longer than max_retry_wait_seconds is not waited for:
// the client gets the 429 and the Retry-After at once.
func TestRetryAfterBeyondCapIsReturned(t *testing.T) {
	up := pt.NewUpstream(t, pt.Status(429, "Retry-After: 20"))
	reg := routerRegistry(t, "max_retry_wait_seconds: 5", openaiDep("m", up))
	start := time.Now()
	r := upstreamtest.Chat(t, reg, chatBody)
	if r.Status != 429 || r.Headers["Retry-After"] != "20" {
		t.Fatalf("status %d retry-after %q", r.Status, r.Headers["Retry-After"])
	}
	if time.Since(start) > 3*time.Second || len(up.Requests()) != 1 {
		t.Fatalf("took %s with %d upstream calls", time.Since(start), len(up.Requests()))
	}

	// The next call finds the only deployment asking not to be called
	// for longer than a call may wait: a 429 saying so, with the
	// Retry-After left, and no upstream call.
	r = upstreamtest.Chat(t, reg, chatBody)
	if r.Status != 429 || r.Err.Code != "rate_limit_exceeded" || !strings.Contains(r.Err.Message, "asked to be called again in") ||
		(r.Headers["Retry-After"] != "20" && r.Headers["Retry-After"] != "19") || len(up.Requests()) != 1 {
		t.Fatalf("status %d retry-after %q calls %d: %s", r.Status, r.Headers["Retry-After"], len(up.Requests()), r.Body)
	}
}

func TestConnectionResetBeforeFirstEventIsRetried(t *testing.T) {
	headersThenReset := func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		pt.ResetConn(w, r, body)
	}
	commentThenReset := func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, ": OPENROUTER PROCESSING\n\n")
		w.(http.Flusher).Flush()
		pt.ResetConn(w, r, body)
	}
	for _, first := range []pt.Handler{pt.ResetConn, headersThenReset, commentThenReset} {
		up := pt.NewUpstream(t, pt.Sequence(first, pt.OpenAIStream([]string{"clean", "answer"}, 0, nil)))
		r := upstreamtest.Chat(t, routerRegistry(t, "", openaiDep("m", up)), streamReq)
		if r.Status != 200 || strings.Contains(r.Body, `"error"`) || strings.Count(r.Body, `"role":"assistant"`) != 1 || strings.Contains(r.Body, "PROCESSING") {
			t.Fatalf("status %d body %q", r.Status, r.Body)
		}
		if !strings.Contains(r.Body, `"content":"clean "`) || !strings.HasSuffix(r.Body, "data: [DONE]\n\n") {
			t.Fatalf("body %q", r.Body)
		}
		if n := len(up.Requests()); n != 2 {
			t.Fatalf("upstream calls = %d, want 2", n)
		}
	}
}

// After the first event a failure is an error event and a clean end;
// never a retry that would splice a second answer in.
func TestConnectionResetAfterFirstEventIsNotRetried(t *testing.T) {
	up := pt.NewUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"par\"},\"finish_reason\":null}]}\n\n")
		w.(http.Flusher).Flush()
		time.Sleep(20 * time.Millisecond)
		pt.ResetConn(w, r, body)
	})
	good := pt.NewUpstream(t, nil)
	reg := routerRegistry(t, "fallbacks: [{m: [b]}]", openaiDep("m", up), openaiDep("b", good))
	r := upstreamtest.Chat(t, reg, streamReq)
	if !strings.Contains(r.Body, `"content":"par"`) || !strings.Contains(r.Body, `data: {"error":`) || !strings.HasSuffix(r.Body, "data: [DONE]\n\n") || r.RelayErr == nil {
		t.Fatalf("relay %v body %q", r.RelayErr, r.Body)
	}
	if len(up.Requests()) != 1 || len(good.Requests()) != 0 {
		t.Fatalf("calls: failing %d, fallback %d; want 1 and 0", len(up.Requests()), len(good.Requests()))
	}
}

func TestFirstByteSlowerThanStreamTimeout(t *testing.T) {
	for _, tc := range []struct {
		name string
		slow pt.Handler
	}{
		{"no headers", pt.WaitThen(3*time.Second, pt.OpenAIStream([]string{"late"}, 0, nil))},
		{"headers but no event", pt.HeadersThenWait(3 * time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := pt.NewUpstream(t, pt.Sequence(tc.slow, pt.OpenAIStream([]string{"fast"}, 0, nil)))
			d := openaiDep("m", up)
			d.StreamTimeout = 200 * time.Millisecond
			reg := routerRegistry(t, "", d)
			start := time.Now()
			r := upstreamtest.Chat(t, reg, streamReq)
			if r.Status != 200 || !strings.Contains(r.Body, `"content":"fast"`) || strings.Contains(r.Body, "late") || strings.Contains(r.Body, `"error"`) {
				t.Fatalf("status %d body %q", r.Status, r.Body)
			}
			if took := time.Since(start); took < 200*time.Millisecond || took > 2*time.Second {
				t.Fatalf("took %s", took)
			}
			if n := len(up.Requests()); n != 2 || r.Attempts != 2 {
				t.Fatalf("upstream calls = %d, attempts %d", n, r.Attempts)
			}
		})
	}
}

func TestNonStreamTimeoutBoundsWholeCall(t *testing.T) {
	// Headers at once, then a body that trickles past the timeout.
	up := pt.NewUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
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
	d := openaiDep("m", up)
	d.Timeout = 300 * time.Millisecond
	reg := routerRegistry(t, "num_retries: 0", d)
	start := time.Now()
	if r := upstreamtest.Chat(t, reg, chatBody); r.Status != 408 || time.Since(start) > 1500*time.Millisecond {
		t.Fatalf("status %d after %s: %s", r.Status, time.Since(start), r.Body)
	}
}

// connection_pool.read_timeout catches a non-stream body that stalls
// long before the call's timeout.
func TestPoolReadTimeoutCatchesStalledBody(t *testing.T) {
	up := pt.NewUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		io.WriteString(w, `{"id":"x",`)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	d := openaiDep("m", up)
	d.Timeout = 10 * time.Second
	d.ConnectionPool = &config.ConnectionPool{ReadTimeout: 200 * time.Millisecond, MaxConnections: 4}
	reg := routerRegistry(t, "num_retries: 0", d)
	start := time.Now()
	if r := upstreamtest.Chat(t, reg, chatBody); r.Status != 408 || time.Since(start) > 2*time.Second {
		t.Fatalf("status %d after %s", r.Status, time.Since(start))
	}
}

func TestStalledStreamEndsWithErrorEvent(t *testing.T) {
	gate := make(chan struct{}) // never opened
	up := pt.NewUpstream(t, pt.OpenAIStream([]string{"one", "two"}, 0, gate))
	d := openaiDep("m", up)
	d.StreamTimeout = 250 * time.Millisecond
	reg := routerRegistry(t, "", d)
	start := time.Now()
	r := upstreamtest.Chat(t, reg, streamReq)
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("stall noticed after %s", took)
	}
	if !strings.Contains(r.Body, `"content":"one `) || !strings.Contains(r.Body, `"code":"upstream_timeout"`) || !strings.HasSuffix(r.Body, "data: [DONE]\n\n") {
		t.Fatalf("body %q", r.Body)
	}
	if strings.Contains(r.Body, "two") || len(up.Requests()) != 1 {
		t.Fatalf("calls %d body %q", len(up.Requests()), r.Body)
	}
}

// Upstream keep-alive comments before the first event keep a slow
// first token within stream_timeout; they are not relayed.
func TestUpstreamCommentsRenewFirstByteWait(t *testing.T) {
	up := pt.NewUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; i < 5; i++ {
			io.WriteString(w, ": OPENROUTER PROCESSING\n\n")
			w.(http.Flusher).Flush()
			time.Sleep(100 * time.Millisecond)
		}
		pt.OpenAIStream([]string{"thought"}, 0, nil)(w, r, body)
	})
	d := openaiDep("m", up)
	d.StreamTimeout = 250 * time.Millisecond
	r := upstreamtest.Chat(t, routerRegistry(t, "", d), streamReq)
	if r.Status != 200 || !strings.Contains(r.Body, `"content":"thought"`) || strings.Contains(r.Body, "PROCESSING") || len(up.Requests()) != 1 {
		t.Fatalf("status %d calls %d body %q", r.Status, len(up.Requests()), r.Body)
	}
}

// A call canceled (its client gone) while it waits out a Retry-After
// ends at once, without another upstream call.
func TestCancelDuringBackoffEndsTheCall(t *testing.T) {
	up := pt.NewUpstream(t, pt.Status(429, "Retry-After: 10"))
	reg := routerRegistry(t, "max_retry_wait_seconds: 60", openaiDep("m", up))
	req := upstreamtest.Request(chatBody, upstream.RouteChat)
	done := make(chan upstreamtest.Result, 1)
	go func() { done <- upstreamtest.Do(t, reg, req) }()
	wait.For(t, 3*time.Second, "the first upstream call", func() bool { return len(up.Requests()) == 1 })
	wait.For(t, 3*time.Second, "the call to sit in backoff", func() bool { return reg.Groups()[0].Deployments[0].InFlight() == 0 })
	req.Cancel.Cancel()
	select {
	case r := <-done:
		if r.Status != 499 || r.Err.Code != "client_closed_request" {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the backoff did not end on cancel")
	}
	if n := len(up.Requests()); n != 1 {
		t.Fatalf("upstream calls = %d, want 1", n)
	}
}
