package bench

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// startStallTarget serves 200 OK at once, except that requests whose
// sequence number (from 1) is a multiple of every stall for 50 ms.
func startStallTarget(t *testing.T, every int64, stall time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if n.Add(1)%every == 0 {
			time.Sleep(stall)
		}
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"ok":true}`)
	}}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return "http://" + ln.Addr().String()
}

func TestOpenLoopShowsStallsOfQueuedRequests(t *testing.T) {
	target := startStallTarget(t, 50, 50*time.Millisecond)
	const rate = 200.0 // one request every 5 ms
	r, err := Run(testCtx(t), RunOptions{
		Target: target, Model: "m", Rate: rate, MaxOutstanding: 1,
		Duration: time.Second, Timeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors != 0 || r.OK < 190 {
		t.Fatalf("ok %d errors %v", r.OK, r.ErrorsByKind)
	}
	if r.AchievedRate < 0.9*rate || r.AchievedRate > 1.1*rate {
		t.Errorf("achieved rate %.1f/s, want ≈ %.0f/s", r.AchievedRate, rate)
	}
	// 4 stalls of 50 ms delay the ~9 requests scheduled during each: measured
	// from their scheduled time they are slow too, so well over the 2% of
	// requests that stalled themselves are ≥ 10 ms: p90 shows it.
	slow := uint64(0)
	r.LatencyHist.Each(func(v int64, c uint64) {
		if v >= int64(10*time.Millisecond) {
			slow += c
		}
	})
	if slow < 3*5 {
		t.Errorf("only %d requests ≥ 10ms; stalls hidden (coordinated omission)? latency %+v", slow, r.Latency)
	}
	if r.Latency.Max < 45 {
		t.Errorf("max %.1f ms, want the 50 ms stall", r.Latency.Max)
	}
	// The same target driven closed-loop by one worker hides the queueing:
	// only the requests that stalled themselves are slow.
	cl, err := Run(testCtx(t), RunOptions{Target: target, Model: "m", Concurrency: 1, Requests: 200, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	slowClosed := uint64(0)
	cl.LatencyHist.Each(func(v int64, c uint64) {
		if v >= int64(10*time.Millisecond) {
			slowClosed += c
		}
	})
	if slowClosed*2 >= slow {
		t.Errorf("closed loop: %d slow requests, open loop %d: open loop should show more", slowClosed, slow)
	}
	t.Logf("open loop: %d requests ≥10ms, p50 %.2f p90 %.2f p99 %.2f max %.2f ms, achieved %.1f/s",
		slow, r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max, r.AchievedRate)
}

func TestClosedLoopStreamAgainstUpstream(t *testing.T) {
	u, addr := startUpstream(t, UpstreamOptions{Chunks: 5, ChunkBytes: 8, TTFT: 2 * time.Millisecond, Gap: time.Millisecond})
	for _, api := range []string{apiOpenAI, apiAnthropic, apiResponses} {
		r, err := Run(testCtx(t), RunOptions{
			Target: "http://" + addr, Model: "m", Stream: true, Anthropic: api == apiAnthropic, Responses: api == apiResponses,
			Concurrency: 2, Requests: 40, ExpectEvents: 6, Timeout: 5 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		if r.Requests != 40 || r.OK != 40 || r.Errors != 0 {
			t.Fatalf("%s: requests %d ok %d errors %v", api, r.Requests, r.OK, r.ErrorsByKind)
		}
		if r.Events != 200 || r.LostEvents != 40 { // 5 received of 6 expected
			t.Errorf("%s: events %d lost %d", api, r.Events, r.LostEvents)
		}
		if r.TTFT.Count != 40 || r.TTFT.P50 < 2 || r.Gap.Count != 160 || r.Gap.P50 < 0.9 {
			t.Errorf("%s: ttft %+v gap %+v", api, r.TTFT, r.Gap)
		}
		if r.Latency.P50 < r.TTFT.P50 {
			t.Errorf("latency p50 %.3f < ttft p50 %.3f", r.Latency.P50, r.TTFT.P50)
		}
	}
	if st := u.Stats(); st.Streams != 120 || st.ClosedEarly != 0 {
		t.Errorf("upstream stats %+v", st)
	}
}

func TestRunCountsErrorsByStatus(t *testing.T) {
	_, addr := startUpstream(t, UpstreamOptions{ErrorRate: 1, ErrorStatus: 503})
	r, err := Run(testCtx(t), RunOptions{Target: "http://" + addr + "/v1", Model: "m", Concurrency: 2, Requests: 10})
	if err != nil {
		t.Fatal(err)
	}
	if r.ErrorsByKind["503"] != 10 || r.OK != 0 || r.Latency.Count != 0 {
		t.Errorf("errors %v ok %d", r.ErrorsByKind, r.OK)
	}
	// Nothing listening: transport errors, not a hang.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	r, err = Run(testCtx(t), RunOptions{Target: "http://" + dead, Model: "m", Concurrency: 1, Requests: 3, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors != 3 || r.ErrorsByKind["transport"]+r.ErrorsByKind["timeout"] != 3 {
		t.Errorf("errors %v", r.ErrorsByKind)
	}
}

func TestEndpoint(t *testing.T) {
	for _, c := range []struct {
		in   string
		api  string
		want string
	}{
		{"http://h:1", apiOpenAI, "http://h:1/v1/chat/completions"},
		{"http://h:1/", apiAnthropic, "http://h:1/v1/messages"},
		{"http://h:1/v1", apiResponses, "http://h:1/v1/responses"},
		{"http://h:1/v1", apiOpenAI, "http://h:1/v1/chat/completions"},
		{"https://h/openai/v1/chat/completions", apiOpenAI, "https://h/openai/v1/chat/completions"},
	} {
		u, err := endpoint(c.in, c.api)
		if err != nil || u.String() != c.want {
			t.Errorf("endpoint(%q) = %v, %v; want %s", c.in, u, err, c.want)
		}
	}
	if _, err := endpoint("h:1", apiOpenAI); err == nil {
		t.Error("want an error for a URL without scheme")
	}
}

func TestOpenLoopGivesUpOnADeadTarget(t *testing.T) {
	target := startStallTarget(t, 1, 700*time.Millisecond) // every request hangs
	start := time.Now()
	r, err := Run(testCtx(t), RunOptions{
		Target: target, Model: "m", Rate: 100, MaxOutstanding: 2,
		Duration: 300 * time.Millisecond, Timeout: 150 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("run took %s against a dead target", el)
	}
	if r.Errors != 30 || r.ErrorsByKind["not_sent"] == 0 || r.ErrorsByKind["timeout"] == 0 || r.OK != 0 {
		t.Errorf("errors %d %v ok %d", r.Errors, r.ErrorsByKind, r.OK)
	}
}

func TestStreamTimeoutIsAnError(t *testing.T) {
	// 100 events 20 ms apart take 2 s; a 150 ms timeout must cut them off.
	_, addr := startUpstream(t, UpstreamOptions{Chunks: 100, Gap: 20 * time.Millisecond})
	start := time.Now()
	r, err := Run(testCtx(t), RunOptions{Target: "http://" + addr, Model: "m", Stream: true, Concurrency: 1, Requests: 1, Timeout: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors != 1 || r.ErrorsByKind["timeout"] != 1 || time.Since(start) > time.Second {
		t.Errorf("errors %v after %s", r.ErrorsByKind, time.Since(start))
	}
}

// compare picks the llmedge model that passes each client's API through
// or translates it, and refuses pairs llmedge has no route for.
func TestCompareThroughModel(t *testing.T) {
	for _, c := range []struct {
		o    CompareOptions
		want string
	}{
		{CompareOptions{Client: apiOpenAI}, "bench"},
		{CompareOptions{Client: apiAnthropic}, "bench"},                            // /v1/messages translated to chat
		{CompareOptions{Client: apiAnthropic, Anthropic: true}, "bench-anthropic"}, // passed through
		{CompareOptions{Client: apiResponses}, "bench-chat"},                       // translated to chat
		{CompareOptions{Client: apiResponses, Responses: true}, "bench"},           // passed through
		{CompareOptions{Client: apiResponses, Anthropic: true}, "bench-anthropic"},
	} {
		if err := c.o.check(); err != nil {
			t.Errorf("%+v: %v", c.o, err)
		}
		if got := throughModel(c.o); got != c.want {
			t.Errorf("%+v: model %q, want %q", c.o, got, c.want)
		}
	}
	for _, bad := range []CompareOptions{{Client: "grpc"}, {Client: apiOpenAI, Responses: true}, {Client: apiResponses, Responses: true, Anthropic: true}} {
		if bad.check() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
