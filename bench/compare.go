package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// CompareOptions configure a compare run.
type CompareOptions struct {
	// Rounds of measurement; each runs both lanes for Duration, the lane
	// order alternating between rounds (default 3 rounds of 5 s).
	Rounds   int
	Duration time.Duration
	// Warmup runs each lane briefly before measuring (default 500 ms; <0: none).
	Warmup time.Duration
	// Concurrency is the closed-loop worker count per lane (default 8).
	// Rate, when set, drives both lanes open-loop instead.
	Concurrency int
	Rate        float64
	Stream      bool
	// Anthropic: OpenAI-format requests to llmedge model "bench-anthropic",
	// which llmedge translates to the fake upstream's Anthropic API; the
	// direct lane then calls the fake's /v1/messages.
	Anthropic bool
	// Client is the API the through lane's client speaks to llmedge:
	// "openai" (default: chat completions), "anthropic" (/v1/messages)
	// or "responses" (/v1/responses). With an upstream of another API
	// llmedge translates; with the same API it passes through.
	Client string
	// Responses: the upstream is an OpenAI Responses API (llmedge model
	// "bench", /v1/responses passed through); only with Client
	// "responses". The direct lane then calls the fake's /v1/responses.
	Responses bool
	// Upstream shapes the fake upstream.
	Upstream UpstreamOptions
	// Timeout bounds each request (default 10 s).
	Timeout time.Duration

	// LLMedgePath is the llmedge binary the default StartProxy runs
	// (default os.Executable()).
	LLMedgePath string
	// StartProxy starts the proxy under test in front of upstreamAddr and
	// returns its base URL, its process id (0 if it has none of its own: CPU
	// and RSS are then not reported) and a stop function. The default runs
	// "LLMedgePath serve --config <temp> --port <free> --host 127.0.0.1".
	StartProxy func(ctx context.Context, upstreamAddr string) (baseURL string, pid int, stop func(), err error)

	// Log receives progress lines (nil: silent).
	Log io.Writer
}

// Lane is one side of a comparison.
type Lane struct {
	Name   string  `json:"name"`
	Target string  `json:"target"`
	Model  string  `json:"model"`
	API    string  `json:"api"`
	Result *Result `json:"result"`
}

// Overhead is through − direct for one statistic, in milliseconds.
type Overhead struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

func overhead(through, direct Summary) Overhead {
	return Overhead{
		P50: through.P50 - direct.P50, P90: through.P90 - direct.P90, P99: through.P99 - direct.P99,
		P999: through.P999 - direct.P999, Max: through.Max - direct.Max, Mean: through.Mean - direct.Mean,
	}
}

// CompareResult is a compare run's outcome. Its JSON form is documented in
// bench/README.md.
type CompareResult struct {
	Rounds          int           `json:"rounds"`
	DurationS       float64       `json:"round_duration_s"`
	Concurrency     int           `json:"concurrency"`
	Rate            float64       `json:"rate,omitempty"`
	Stream          bool          `json:"stream"`
	Anthropic       bool          `json:"anthropic"`
	Upstream        UpstreamStats `json:"upstream"`
	Direct          Lane          `json:"direct"`
	Through         Lane          `json:"through"`
	LatencyOverhead Overhead      `json:"latency_overhead_ms"`
	TTFTOverhead    *Overhead     `json:"ttft_overhead_ms,omitempty"`
	ThroughputRatio float64       `json:"throughput_ratio"` // through ÷ direct
	// ProxyPID is 0 when the proxy had no process of its own; the two
	// fields below are then absent.
	ProxyPID        int      `json:"proxy_pid"`
	CPUPerRequestUS *float64 `json:"proxy_cpu_us_per_request,omitempty"`
	// CPUPerEventUS is the CPU per content event of the through lane's
	// streams (--stream only).
	CPUPerEventUS     *float64 `json:"proxy_cpu_us_per_event,omitempty"`
	PeakRSSBytes      *int64   `json:"proxy_peak_rss_bytes,omitempty"`
	proxyCPUTicks     int64
	proxyCPURequestsN int64
	proxyCPUEventsN   int64
}

// Compare measures the fake upstream directly and through the proxy, in
// alternating rounds at the same load.
func Compare(ctx context.Context, o CompareOptions) (*CompareResult, error) {
	if o.Rounds <= 0 {
		o.Rounds = 3
	}
	if o.Duration <= 0 {
		o.Duration = 5 * time.Second
	}
	if o.Warmup == 0 {
		o.Warmup = 500 * time.Millisecond
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Client == "" {
		o.Client = apiOpenAI
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	if o.Upstream.Chunks <= 0 {
		o.Upstream.Chunks = 16
	}
	logf := func(format string, a ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", a...)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	up := NewUpstream(o.Upstream)
	go func() { _ = up.Serve(ln) }()
	defer func() { _ = up.Close() }()
	upAddr := ln.Addr().String()
	logf("fake upstream on http://%s", upAddr)

	start := o.StartProxy
	if start == nil {
		start = func(ctx context.Context, upstreamAddr string) (string, int, func(), error) {
			return ExecLLMedge(ctx, o.LLMedgePath, upstreamAddr, o.Log)
		}
	}
	base, pid, stop, err := start(ctx, upAddr)
	if err != nil {
		return nil, fmt.Errorf("starting the proxy: %w", err)
	}
	defer stop()
	logf("proxy at %s (pid %d)", base, pid)

	direct := RunOptions{Target: "http://" + upAddr, Model: "bench-model", Anthropic: o.Anthropic, Responses: o.Responses}
	through := RunOptions{Target: base, Model: throughModel(o), APIKey: "sk-bench",
		Anthropic: o.Client == apiAnthropic, Responses: o.Client == apiResponses}
	if o.Anthropic {
		direct.Model = "claude-bench"
	}
	for _, r := range []*RunOptions{&direct, &through} {
		r.Stream, r.Concurrency, r.Rate, r.Timeout = o.Stream, o.Concurrency, o.Rate, o.Timeout
		r.MaxOutstanding = max(4*o.Concurrency, 64)
		if o.Stream {
			r.ExpectEvents = o.Upstream.Chunks
		}
	}
	res := &CompareResult{
		Rounds: o.Rounds, DurationS: o.Duration.Seconds(), Concurrency: o.Concurrency, Rate: o.Rate,
		Stream: o.Stream, Anthropic: o.Anthropic, ProxyPID: pid,
		Direct:  Lane{Name: "direct", Target: direct.Target, Model: direct.Model, API: direct.api()},
		Through: Lane{Name: "through llmedge", Target: base, Model: through.Model, API: o.Client},
	}
	if o.Warmup > 0 {
		for _, r := range []RunOptions{direct, through} {
			r.Duration = o.Warmup
			if _, err := Run(ctx, r); err != nil {
				return nil, err
			}
		}
	}
	var agg [2]*Result
	for round := range o.Rounds {
		order := []int{0, 1}
		if round%2 == 1 {
			order = []int{1, 0}
		}
		for _, lane := range order {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			r := direct
			if lane == 1 {
				r = through
			}
			r.Duration = o.Duration
			var before int64
			if lane == 1 && pid > 0 {
				before, _ = procCPUTicks(pid)
			}
			out, err := Run(ctx, r)
			if err != nil {
				return nil, err
			}
			if lane == 1 && pid > 0 {
				if after, err := procCPUTicks(pid); err == nil {
					res.proxyCPUTicks += after - before
					res.proxyCPURequestsN += out.Requests
					res.proxyCPUEventsN += out.Events
				}
			}
			logf("round %d %-15s %8.1f req/s  p50 %.3f ms  p99 %.3f ms  errors %d",
				round+1, []string{"direct", "through llmedge"}[lane], out.Throughput, out.Latency.P50, out.Latency.P99, out.Errors)
			agg[lane] = mergeResults(agg[lane], out)
		}
	}
	res.Direct.Result, res.Through.Result = agg[0], agg[1]
	res.Upstream = up.Stats()
	res.LatencyOverhead = overhead(agg[1].Latency, agg[0].Latency)
	if o.Stream {
		t := overhead(agg[1].TTFT, agg[0].TTFT)
		res.TTFTOverhead = &t
	}
	if agg[0].Throughput > 0 {
		res.ThroughputRatio = agg[1].Throughput / agg[0].Throughput
	}
	if pid > 0 {
		if res.proxyCPURequestsN > 0 {
			us := float64(res.proxyCPUTicks) * 1e6 / clockTicks / float64(res.proxyCPURequestsN)
			res.CPUPerRequestUS = &us
		}
		if o.Stream && res.proxyCPUEventsN > 0 {
			us := float64(res.proxyCPUTicks) * 1e6 / clockTicks / float64(res.proxyCPUEventsN)
			res.CPUPerEventUS = &us
		}
		if rss, err := procPeakRSS(pid); err == nil {
			res.PeakRSSBytes = &rss
		}
	}
	return res, nil
}

// check refuses combinations llmedge has no route for.
func (o *CompareOptions) check() error {
	switch o.Client {
	case apiOpenAI, apiAnthropic, apiResponses:
	default:
		return fmt.Errorf("client %q: want openai, anthropic or responses", o.Client)
	}
	if o.Anthropic && o.Responses {
		return errors.New("the upstream is either Anthropic or a Responses API, not both")
	}
	if o.Responses && o.Client != apiResponses {
		return errors.New("a Responses API upstream needs --client responses")
	}
	return nil
}

// throughModel is the llmedge model of the through lane: the one on the
// upstream's API, passed through or translated from the client's
// (CompareConfig). A Responses client on a chat upstream needs
// "bench-chat", whose model_info.mode: chat makes llmedge translate
// instead of passing /v1/responses on.
func throughModel(o CompareOptions) string {
	switch {
	case o.Anthropic:
		return "bench-anthropic"
	case o.Client == apiResponses && !o.Responses:
		return "bench-chat"
	}
	return "bench"
}

// mergeResults folds b into a (a may be nil), recomputing the summaries.
func mergeResults(a, b *Result) *Result {
	if a == nil {
		c := *b
		c.ErrorsByKind = map[string]int64{}
		for k, v := range b.ErrorsByKind {
			c.ErrorsByKind[k] = v
		}
		c.LatencyHist, c.TTFTHist, c.GapHist = NewHistogram(), NewHistogram(), NewHistogram()
		c.LatencyHist.Merge(b.LatencyHist)
		c.TTFTHist.Merge(b.TTFTHist)
		c.GapHist.Merge(b.GapHist)
		return &c
	}
	a.ElapsedS += b.ElapsedS
	a.Requests += b.Requests
	a.OK += b.OK
	a.Errors += b.Errors
	for k, v := range b.ErrorsByKind {
		a.ErrorsByKind[k] += v
	}
	a.Events += b.Events
	a.LostEvents += b.LostEvents
	a.LatencyHist.Merge(b.LatencyHist)
	a.TTFTHist.Merge(b.TTFTHist)
	a.GapHist.Merge(b.GapHist)
	if a.ElapsedS > 0 {
		a.Throughput = float64(a.OK) / a.ElapsedS
		a.EventsPerS = float64(a.Events) / a.ElapsedS
	}
	a.AchievedRate = (a.AchievedRate + b.AchievedRate) / 2
	a.Latency = Summarize(a.LatencyHist)
	a.TTFT = Summarize(a.TTFTHist)
	a.Gap = Summarize(a.GapHist)
	return a
}

// WriteText prints c for humans.
func (c *CompareResult) WriteText(w io.Writer) {
	d, t := c.Direct.Result, c.Through.Result
	load := fmt.Sprintf("concurrency %d", c.Concurrency)
	if c.Rate > 0 {
		load = fmt.Sprintf("open loop %.1f req/s", c.Rate)
	}
	fmt.Fprintf(w, "%d rounds × 2 lanes × %.1fs, %s, stream %v, anthropic %v\n", c.Rounds, c.DurationS, load, c.Stream, c.Anthropic)
	fmt.Fprintf(w, "%-22s %10s %9s %9s %9s %9s %9s %8s\n", "latency ms", "req/s", "p50", "p90", "p99", "p99.9", "max", "errors")
	lane := func(name string, r *Result) {
		s := r.Latency
		fmt.Fprintf(w, "%-22s %10.1f %9.3f %9.3f %9.3f %9.3f %9.3f %8d\n", name, r.Throughput, s.P50, s.P90, s.P99, s.P999, s.Max, r.Errors)
	}
	lane("direct", d)
	lane("through llmedge", t)
	ov := func(name string, o Overhead) {
		fmt.Fprintf(w, "%-22s %10s %+9.3f %+9.3f %+9.3f %+9.3f %+9.3f\n", name, "", o.P50, o.P90, o.P99, o.P999, o.Max)
	}
	ov("overhead (latency)", c.LatencyOverhead)
	if c.TTFTOverhead != nil {
		fmt.Fprintf(w, "%-22s %10s %9.3f %9.3f %9.3f %9.3f %9.3f\n", "ttft direct", "", d.TTFT.P50, d.TTFT.P90, d.TTFT.P99, d.TTFT.P999, d.TTFT.Max)
		fmt.Fprintf(w, "%-22s %10s %9.3f %9.3f %9.3f %9.3f %9.3f\n", "ttft through", "", t.TTFT.P50, t.TTFT.P90, t.TTFT.P99, t.TTFT.P999, t.TTFT.Max)
		ov("overhead (ttft)", *c.TTFTOverhead)
		fmt.Fprintf(w, "lost events: direct %d, through %d\n", d.LostEvents, t.LostEvents)
	}
	fmt.Fprintf(w, "throughput ratio (through/direct): %.3f\n", c.ThroughputRatio)
	if c.CPUPerRequestUS != nil {
		fmt.Fprintf(w, "llmedge CPU per request: %.1f µs\n", *c.CPUPerRequestUS)
		if c.CPUPerEventUS != nil {
			fmt.Fprintf(w, "llmedge CPU per stream event: %.2f µs (client %s, upstream %s)\n", *c.CPUPerEventUS, c.Through.API, c.Direct.API)
		}
	}
	if c.PeakRSSBytes != nil {
		fmt.Fprintf(w, "llmedge peak RSS (VmHWM): %.1f MiB\n", float64(*c.PeakRSSBytes)/(1<<20))
	}
	if t.Errors > 0 || d.Errors > 0 {
		fmt.Fprintf(w, "errors: direct %v, through %v\n", d.ErrorsByKind, t.ErrorsByKind)
	}
}
