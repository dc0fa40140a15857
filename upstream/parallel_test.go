package upstream

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
)

// gatedStreams is an OpenAI-compatible upstream whose streams send one
// event, then wait for open to be closed before ending.
func gatedStreams(t *testing.T, open <-chan struct{}, failFirst *atomic.Bool) string {
	return fakeUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if failFirst != nil && failFirst.CompareAndSwap(true, false) {
			http.Error(w, `{"error":{"message":"boom","type":"server_error"}}`, 500)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-open:
		case <-r.Context().Done():
			return
		}
		fmt.Fprint(w, "data: [DONE]\n\n")
	})
}

func capRegistry(t *testing.T, caps []int, router string, base string) *Registry {
	t.Helper()
	cfg := settingsConfig(t, "router_settings: {"+router+"}\n")
	for i, c := range caps {
		cfg.Deployments = append(cfg.Deployments, &config.Deployment{ModelName: "m", ID: fmt.Sprintf("m-%d", i), Model: "openai/gpt-4o",
			Provider: "openai", UpstreamModel: "gpt-4o", APIBase: base, APIKey: "k", MaxParallel: c})
	}
	reg, err := NewRegistry(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

type callResult struct {
	out *Response
	err error
}

// startStream starts a stream call; its result arrives on the channel
// once the router has an answer (the first event) or gave up.
func startStream(reg *Registry, cancel *Cancel) <-chan callResult {
	done := make(chan callResult, 1)
	go func() {
		out := AcquireResponse()
		req := request(RouteChat, `{"model":"m","messages":[],"stream":true}`, true)
		if cancel != nil {
			req.Cancel = cancel
		}
		err := reg.Chat(reg.Lookup([]byte("m")), req, out)
		done <- callResult{out, err}
	}()
	return done
}

func await(t *testing.T, ch <-chan callResult, what string) callResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no answer within 5s", what)
	}
	return callResult{}
}

func notYet(t *testing.T, ch <-chan callResult, what string) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("%s answered while every slot was taken: %v", what, r.err)
	case <-time.After(150 * time.Millisecond):
	}
}

// finishStream relays a stream to its end and releases it (its slot
// with it).
func finishStream(t *testing.T, r callResult) {
	t.Helper()
	if r.err != nil || r.out.Stream == nil {
		t.Fatalf("not a stream: %v", r.err)
	}
	var w bufWriter
	if err := r.out.Stream.Relay(&w); err != nil {
		t.Fatal(err)
	}
	ReleaseResponse(r.out)
}

// A stream holds its deployment's slot until it is released; a call
// that finds every slot taken waits for one (LiteLLM's semaphore), and
// the router spreads calls over the deployments that have room.
func TestMaxParallelRequestsQueuesCalls(t *testing.T) {
	open := make(chan struct{})
	reg := capRegistry(t, []int{1, 1}, "", gatedStreams(t, open, nil))
	a := await(t, startStream(reg, nil), "first call")
	b := await(t, startStream(reg, nil), "second call")
	if a.err != nil || b.err != nil || a.out.Deployment == b.out.Deployment {
		t.Fatalf("two calls, two deployments with one slot each: %v %v", a.err, b.err)
	}
	third := startStream(reg, nil)
	notYet(t, third, "a third call")
	close(open) // the gated streams may end now
	freed := a.out.Deployment
	finishStream(t, a)
	c := await(t, third, "the queued call")
	if c.err != nil || c.out.Deployment != freed {
		t.Fatalf("queued call: %v (on %s, want %s)", c.err, c.out.Deployment.ID, freed.ID)
	}
	finishStream(t, b)
	finishStream(t, c)
	for _, d := range reg.Lookup([]byte("m")).Deployments {
		if n := d.slots.used.Load(); n != 0 {
			t.Errorf("%s: %d slots still taken", d.ID, n)
		}
	}
}

// The wait for a slot is bounded by max_retry_wait_seconds (then a 429
// the client can retry) and ends at once when the client goes away; a
// failed attempt gives its slot back at once.
func TestMaxParallelRequestsWaitIsBounded(t *testing.T) {
	open := make(chan struct{})
	defer close(open)
	var failFirst atomic.Bool
	failFirst.Store(true)
	reg := capRegistry(t, []int{0}, "default_max_parallel_requests: 1, max_retry_wait_seconds: 200ms, num_retries: 0",
		gatedStreams(t, open, &failFirst))
	if r := await(t, startStream(reg, nil), "failing call"); r.err == nil {
		t.Fatal("the first call should fail (upstream 500)")
	} else {
		ReleaseResponse(r.out)
	}
	holder := await(t, startStream(reg, nil), "call after a failure")
	if holder.err != nil {
		t.Fatalf("the failed call kept its slot: %v", holder.err)
	}
	start := time.Now()
	r := await(t, startStream(reg, nil), "bounded wait")
	var e *Error
	if !errors.As(r.err, &e) || e.Status != 429 || e.Code != "max_parallel_requests" || !strings.Contains(e.Message, `"m"`) {
		t.Fatalf("after the wait: %v", r.err)
	}
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Fatalf("gave up after %s, before max_retry_wait_seconds", waited)
	}
	ReleaseResponse(r.out)

	var cancel Cancel
	ch := startStream(reg, &cancel)
	notYet(t, ch, "a call waiting for a slot")
	cancel.Cancel()
	if r := await(t, ch, "canceled wait"); r.err == nil || !errors.As(r.err, &e) || e.Status != 499 {
		t.Fatalf("canceled while waiting: %v", r.err)
	} else {
		ReleaseResponse(r.out)
	}
	ReleaseResponse(holder.out)
	if n := reg.Lookup([]byte("m")).Deployments[0].slots.used.Load(); n != 0 {
		t.Fatalf("%d slots still taken", n)
	}
}
