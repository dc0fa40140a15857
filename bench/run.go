package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// RunOptions configure one load run.
type RunOptions struct {
	// Target is the server's base URL ("http://127.0.0.1:4000"), a URL ending
	// in /v1, or the full endpoint URL.
	Target string
	// Model is the request's "model".
	Model string
	// Stream requests SSE responses (with stream_options.include_usage for
	// OpenAI requests).
	Stream bool
	// Anthropic sends Anthropic Messages requests (/v1/messages) instead of
	// OpenAI chat completions; Responses sends OpenAI Responses API
	// requests (/v1/responses).
	Anthropic bool
	Responses bool
	// APIKey is sent as "Authorization: Bearer" (OpenAI) or "x-api-key"
	// (Anthropic) when not empty.
	APIKey string

	// Concurrency is the number of closed-loop workers (default 8). Ignored
	// when Rate is set.
	Concurrency int
	// Rate switches to open loop: requests are scheduled at this many per
	// second and latency is measured from the scheduled time.
	Rate float64
	// MaxOutstanding bounds in-flight requests in open loop (default 256).
	MaxOutstanding int

	// Duration bounds the run; Requests bounds the number of requests sent.
	// With neither, Duration is 10 s.
	Duration time.Duration
	Requests int

	// ExpectEvents is the number of content events each stream should carry
	// (0: unknown); missing ones are counted as lost.
	ExpectEvents int
	// Timeout bounds each request, stream included (default 30 s).
	Timeout time.Duration
	// MaxTokens is sent as max_tokens (default 256).
	MaxTokens int
	// Prompt is the user message (default "Say hello.").
	Prompt string

	// Progress, when set, receives a one-line progress report every 500 ms
	// (rewritten in place with \r).
	Progress io.Writer
}

// api is the wire format o speaks: "openai", "anthropic" or "responses".
func (o *RunOptions) api() string {
	switch {
	case o.Anthropic:
		return apiAnthropic
	case o.Responses:
		return apiResponses
	}
	return apiOpenAI
}

// The wire formats of a run's requests and of the fake upstream.
const (
	apiOpenAI    = "openai"
	apiAnthropic = "anthropic"
	apiResponses = "responses"
)

// endpoint resolves o.Target to the request URL.
func endpoint(target string, api string) (*url.URL, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("target %q: want http(s)://host[:port][/path]", target)
	}
	p := strings.TrimSuffix(u.Path, "/")
	suffix := "/chat/completions"
	switch api {
	case apiAnthropic:
		suffix = "/messages"
	case apiResponses:
		suffix = "/responses"
	}
	switch {
	case strings.HasSuffix(p, suffix):
	case strings.HasSuffix(p, "/v1"):
		p += suffix
	default:
		p += "/v1" + suffix
	}
	u.Path = p
	return u, nil
}

func requestBody(o *RunOptions) []byte {
	if o.Responses {
		m := obj{"model": o.Model, "input": o.Prompt, "max_output_tokens": o.MaxTokens, "store": false}
		if o.Stream {
			m["stream"] = true
		}
		return mustJSON(m)
	}
	m := obj{
		"model":      o.Model,
		"messages":   []any{obj{"role": "user", "content": o.Prompt}},
		"max_tokens": o.MaxTokens,
	}
	if o.Stream {
		m["stream"] = true
		if !o.Anthropic {
			m["stream_options"] = obj{"include_usage": true}
		}
	}
	return mustJSON(m)
}

// runState is shared by a run's workers.
type runState struct {
	o        *RunOptions
	hc       *fasthttp.HostClient
	uri      string
	body     []byte
	t0, end  time.Time
	interval time.Duration
	// Open loop: due is the number of scheduled requests and drainBy the
	// time after which due requests still unsent are given up (counted as
	// "not_sent"), so a dead target cannot keep the run going for
	// due/outstanding × timeout.
	due     int64
	drainBy time.Time
	claimed atomic.Int64
	done    atomic.Int64
	failed  atomic.Int64
	events  atomic.Int64
}

// worker holds one goroutine's histograms and counters.
type worker struct {
	s                   *runState
	lat, ttft, gap      *Histogram
	ok, events, lost    int64
	errs                map[string]int64
	firstSend, lastSend time.Time
	sent                int64
	buf                 []byte
	req                 *fasthttp.Request
	resp                *fasthttp.Response
}

// Run drives load at o.Target until the duration or request budget is
// spent or ctx is cancelled, and returns the merged result.
func Run(ctx context.Context, o RunOptions) (*Result, error) {
	if o.Model == "" {
		return nil, errors.New("model is required")
	}
	if o.Anthropic && o.Responses {
		return nil, errors.New("anthropic and responses exclude each other")
	}
	u, err := endpoint(o.Target, o.api())
	if err != nil {
		return nil, err
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.MaxOutstanding <= 0 {
		o.MaxOutstanding = 256
	}
	if o.Duration <= 0 && o.Requests <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxTokens <= 0 {
		o.MaxTokens = 256
	}
	if o.Prompt == "" {
		o.Prompt = "Say hello."
	}
	workers := o.Concurrency
	mode := "closed"
	if o.Rate > 0 {
		mode = "open"
		workers = o.MaxOutstanding
		if o.Requests > 0 {
			workers = min(workers, o.Requests)
		}
	}
	isTLS := u.Scheme == "https"
	s := &runState{
		o:   &o,
		uri: u.String(),
		hc: &fasthttp.HostClient{
			Addr:                     fasthttp.AddMissingPort(u.Host, isTLS),
			IsTLS:                    isTLS,
			MaxConns:                 workers,
			StreamResponseBody:       o.Stream,
			ReadTimeout:              o.Timeout,
			WriteTimeout:             o.Timeout,
			MaxIdleConnDuration:      10 * time.Second,
			NoDefaultUserAgentHeader: true,
			MaxConnWaitTimeout:       o.Timeout,
		},
		body: requestBody(&o),
	}
	s.t0 = time.Now()
	if o.Duration > 0 {
		s.end = s.t0.Add(o.Duration)
	}
	if o.Rate > 0 {
		s.interval = max(time.Duration(float64(time.Second)/o.Rate), 1)
		s.due = int64(o.Requests)
		if o.Duration > 0 {
			byTime := int64((o.Duration + s.interval - 1) / s.interval)
			if s.due == 0 || byTime < s.due {
				s.due = byTime
			}
		}
		s.drainBy = s.t0.Add(time.Duration(s.due)*s.interval + o.Timeout)
	}
	stopProgress := func() {}
	if o.Progress != nil {
		stopProgress = s.progress()
	}
	ws := make([]*worker, workers)
	var wg sync.WaitGroup
	for i := range ws {
		w := s.newWorker()
		ws[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer w.release()
			w.loop(ctx)
		}()
	}
	wg.Wait()
	elapsed := time.Since(s.t0)
	stopProgress()
	s.hc.CloseIdleConnections()

	r := &Result{
		Mode: mode, Target: s.uri, Model: o.Model, Stream: o.Stream,
		Rate: o.Rate, ElapsedS: elapsed.Seconds(),
		ErrorsByKind: map[string]int64{}, ExpectedEvents: o.ExpectEvents,
		LatencyHist: NewHistogram(), TTFTHist: NewHistogram(), GapHist: NewHistogram(),
	}
	r.API = o.api()
	if o.Rate > 0 {
		r.MaxOutstanding = workers
	} else {
		r.Concurrency = workers
	}
	var first, last time.Time
	var sent int64
	for _, w := range ws {
		r.LatencyHist.Merge(w.lat)
		r.TTFTHist.Merge(w.ttft)
		r.GapHist.Merge(w.gap)
		r.OK += w.ok
		r.Events += w.events
		r.LostEvents += w.lost
		for k, v := range w.errs {
			r.ErrorsByKind[k] += v
			r.Errors += v
		}
		if w.sent > 0 {
			if first.IsZero() || w.firstSend.Before(first) {
				first = w.firstSend
			}
			if w.lastSend.After(last) {
				last = w.lastSend
			}
			sent += w.sent
		}
	}
	if o.Rate > 0 && ctx.Err() == nil && sent < s.due {
		r.ErrorsByKind["not_sent"] += s.due - sent
		r.Errors += s.due - sent
	}
	r.Requests = r.OK + r.Errors
	if secs := elapsed.Seconds(); secs > 0 {
		r.Throughput = float64(r.OK) / secs
		r.EventsPerS = float64(r.Events) / secs
	}
	if o.Rate > 0 && sent > 1 && last.After(first) {
		r.AchievedRate = float64(sent-1) / last.Sub(first).Seconds()
	}
	r.Latency = Summarize(r.LatencyHist)
	r.TTFT = Summarize(r.TTFTHist)
	r.Gap = Summarize(r.GapHist)
	return r, nil
}

func (s *runState) progress() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(s.o.Progress, "\r\033[K")
				return
			case <-t.C:
				el := time.Since(s.t0).Seconds()
				n := s.done.Load()
				fmt.Fprintf(s.o.Progress, "\r\033[K%6.1fs  requests %d  errors %d  %.0f req/s  events %d",
					el, n, s.failed.Load(), float64(n)/el, s.events.Load())
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func (s *runState) newWorker() *worker {
	w := &worker{
		s: s, lat: NewHistogram(), ttft: NewHistogram(), gap: NewHistogram(),
		errs: map[string]int64{}, buf: make([]byte, 0, 32<<10),
		req: fasthttp.AcquireRequest(), resp: fasthttp.AcquireResponse(),
	}
	o := s.o
	w.req.SetRequestURI(s.uri)
	w.req.Header.SetMethod(fasthttp.MethodPost)
	w.req.Header.SetContentType("application/json")
	if o.Stream {
		w.req.Header.Set("Accept", "text/event-stream")
	}
	if o.Anthropic {
		w.req.Header.Set("anthropic-version", "2023-06-01")
		if o.APIKey != "" {
			w.req.Header.Set("x-api-key", o.APIKey)
		}
	} else if o.APIKey != "" {
		w.req.Header.Set("Authorization", "Bearer "+o.APIKey)
	}
	w.req.SetBodyRaw(s.body)
	return w
}

func (w *worker) release() {
	fasthttp.ReleaseRequest(w.req)
	fasthttp.ReleaseResponse(w.resp)
}

func (w *worker) loop(ctx context.Context) {
	s := w.s
	var timer *time.Timer
	for ctx.Err() == nil {
		i := s.claimed.Add(1) - 1
		if s.o.Requests > 0 && i >= int64(s.o.Requests) {
			return
		}
		var start time.Time
		if s.interval > 0 {
			// Open loop: request i is due at t0 + i*interval whatever happened
			// before; latency counts from then, so a stall that delays later
			// sends shows up in their latency instead of being omitted.
			if i >= s.due || time.Now().After(s.drainBy) {
				return
			}
			start = s.t0.Add(time.Duration(i) * s.interval)
			if d := time.Until(start); d > 0 {
				if timer == nil {
					timer = time.NewTimer(d)
				} else {
					timer.Reset(d)
				}
				select {
				case <-timer.C:
				case <-ctx.Done():
					timer.Stop()
					return
				}
			}
		} else {
			start = time.Now()
			if !s.end.IsZero() && !start.Before(s.end) {
				return
			}
		}
		now := time.Now()
		if w.sent == 0 {
			w.firstSend = now
		}
		w.lastSend = now
		w.sent++
		w.one(start)
	}
}

// one performs a request due at start and records its outcome.
func (w *worker) one(start time.Time) {
	s := w.s
	defer s.done.Add(1)
	deadline := time.Now().Add(s.o.Timeout)
	err := s.hc.DoTimeout(w.req, w.resp, s.o.Timeout)
	if err != nil {
		kind := "transport"
		if errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, fasthttp.ErrDialTimeout) {
			kind = "timeout"
		}
		w.fail(kind)
		return
	}
	defer w.resp.CloseBodyStream() //nolint:errcheck // nothing to do about it
	if code := w.resp.StatusCode(); code != fasthttp.StatusOK {
		if r := w.resp.BodyStream(); r != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(r, 1<<20))
		}
		w.fail(strconv.Itoa(code))
		return
	}
	if !s.o.Stream {
		w.lat.RecordDuration(time.Since(start))
		w.ok++
		return
	}
	var r io.Reader = w.resp.BodyStream()
	if r == nil {
		r = bytes.NewReader(w.resp.Body())
	}
	events, complete, streamErr := w.readStream(r, start, deadline)
	end := time.Now()
	s.events.Add(events)
	w.events += events
	if s.o.ExpectEvents > 0 && events < int64(s.o.ExpectEvents) {
		w.lost += int64(s.o.ExpectEvents) - events
	}
	switch {
	case streamErr != "":
		w.fail(streamErr)
		return
	case !complete:
		w.fail("truncated")
		return
	}
	w.lat.RecordDuration(end.Sub(start))
	w.ok++
}

func (w *worker) fail(kind string) {
	w.errs[kind]++
	w.s.failed.Add(1)
}
