package bench

import (
	"encoding/json"
	"fmt"
	"io"
)

// A run's outcome and its digests, as JSON (bench/README.md) and as text.

// Summary is a histogram's digest in milliseconds.
type Summary struct {
	Count uint64  `json:"count"`
	Min   float64 `json:"min"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	Max   float64 `json:"max"`
}

// Summarize digests h (nanoseconds) into milliseconds.
func Summarize(h *Histogram) Summary {
	ms := func(v int64) float64 { return float64(v) / 1e6 }
	return Summary{
		Count: h.Count(), Min: ms(h.Min()), Mean: h.Mean() / 1e6,
		P50: ms(h.Percentile(50)), P90: ms(h.Percentile(90)), P99: ms(h.Percentile(99)),
		P999: ms(h.Percentile(99.9)), Max: ms(h.Max()),
	}
}

// Result is one run's outcome. Its JSON form is documented in bench/README.md.
type Result struct {
	Mode           string  `json:"mode"` // "closed" or "open"
	Target         string  `json:"target"`
	Model          string  `json:"model"`
	API            string  `json:"api"` // "openai" or "anthropic"
	Stream         bool    `json:"stream"`
	Concurrency    int     `json:"concurrency,omitempty"`     // closed loop: workers
	Rate           float64 `json:"rate,omitempty"`            // open loop: requests/s asked for
	MaxOutstanding int     `json:"max_outstanding,omitempty"` // open loop: bound on in-flight requests
	ElapsedS       float64 `json:"elapsed_s"`

	Requests     int64            `json:"requests"` // completed, ok or not
	OK           int64            `json:"ok"`
	Errors       int64            `json:"errors"`
	ErrorsByKind map[string]int64 `json:"errors_by_kind"`
	Throughput   float64          `json:"throughput_rps"` // ok responses per second
	AchievedRate float64          `json:"achieved_rate,omitempty"`

	Latency Summary `json:"latency_ms"`
	TTFT    Summary `json:"ttft_ms"`
	Gap     Summary `json:"gap_ms"`

	Events         int64   `json:"events"`
	EventsPerS     float64 `json:"events_per_s"`
	ExpectedEvents int     `json:"expected_events,omitempty"`
	LostEvents     int64   `json:"lost_events"`

	// Raw histograms (nanoseconds) for merging and reports.
	LatencyHist *Histogram `json:"-"`
	TTFTHist    *Histogram `json:"-"`
	GapHist     *Histogram `json:"-"`
}

// WriteText prints r for humans.
func (r *Result) WriteText(w io.Writer) {
	fmt.Fprintf(w, "%s loop, %s %s, model %s, stream %v", r.Mode, r.API, r.Target, r.Model, r.Stream)
	if r.Rate > 0 {
		fmt.Fprintf(w, ", rate %.1f/s (achieved %.1f/s, at most %d outstanding)", r.Rate, r.AchievedRate, r.MaxOutstanding)
	} else {
		fmt.Fprintf(w, ", concurrency %d", r.Concurrency)
	}
	fmt.Fprintf(w, "\nrequests %d in %.2fs: ok %d, errors %d", r.Requests, r.ElapsedS, r.OK, r.Errors)
	if r.Errors > 0 {
		b, _ := json.Marshal(r.ErrorsByKind)
		fmt.Fprintf(w, " %s", b)
	}
	fmt.Fprintf(w, "\nthroughput %.1f req/s\n", r.Throughput)
	fmt.Fprintf(w, "%-12s %9s %9s %9s %9s %9s %9s\n", "ms", "p50", "p90", "p99", "p99.9", "max", "mean")
	row := func(name string, s Summary) {
		if s.Count == 0 {
			return
		}
		fmt.Fprintf(w, "%-12s %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f\n", name, s.P50, s.P90, s.P99, s.P999, s.Max, s.Mean)
	}
	row("latency", r.Latency)
	row("ttft", r.TTFT)
	row("event gap", r.Gap)
	if r.Stream {
		fmt.Fprintf(w, "events %d (%.1f/s)", r.Events, r.EventsPerS)
		if r.ExpectedEvents > 0 {
			fmt.Fprintf(w, ", lost %d (expected %d per stream)", r.LostEvents, r.ExpectedEvents)
		}
		fmt.Fprintln(w)
	}
}
