package bench

import (
	"fmt"
	"html"
	"io"
	"os"
	"strings"
	"time"
)

// WriteHTML writes r as a self-contained HTML page ("bench run
// --report"): its summary table and inline SVG charts of the latency
// CDF and percentiles, and, for streams, of the time to first token and
// the gap between events.
func (r *Result) WriteHTML(w io.Writer) error {
	var b strings.Builder
	e := html.EscapeString
	reportHead(&b, "llmedge bench run")
	b.WriteString("<h1>llmedge bench run</h1>\n")
	load := fmt.Sprintf("closed loop, concurrency %d", r.Concurrency)
	if r.Rate > 0 {
		load = fmt.Sprintf("open loop, %.1f req/s asked, %.1f achieved, at most %d outstanding", r.Rate, r.AchievedRate, r.MaxOutstanding)
	}
	fmt.Fprintf(&b, "<p>%s %s, model %s, stream %v; %s; %.2f s. Generated %s.</p>\n",
		e(r.API), e(r.Target), e(r.Model), r.Stream, e(load), r.ElapsedS, e(time.Now().UTC().Format(time.RFC3339)))
	fmt.Fprintf(&b, "<p>%d requests: %d ok, %d errors", r.Requests, r.OK, r.Errors)
	for k, n := range r.ErrorsByKind {
		fmt.Fprintf(&b, " (%s: %d)", e(k), n)
	}
	fmt.Fprintf(&b, "; throughput %.1f req/s.", r.Throughput)
	if r.Stream {
		fmt.Fprintf(&b, " Events %d (%.1f/s), lost %d.", r.Events, r.EventsPerS, r.LostEvents)
	}
	b.WriteString("</p>\n<table><tr><th>ms</th><th></th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>count</th></tr>\n")
	for _, row := range []struct {
		name string
		s    Summary
	}{{"latency", r.Latency}, {"ttft", r.TTFT}, {"event gap", r.Gap}} {
		if row.s.Count > 0 {
			summaryRow(&b, row.name, row.s, "", fmt.Sprint(row.s.Count))
		}
	}
	b.WriteString("</table>\n")
	one := func(name string, h *Histogram) []series { return []series{{name, throughColor, h}} }
	b.WriteString("<h2>Latency distribution</h2>\n")
	writeCDF(&b, "Request latency CDF (log x)", one("latency", r.LatencyHist)...)
	writePercentiles(&b, "Request latency by percentile (log x: 90%, 99%, 99.9% … equally spaced)", one("latency", r.LatencyHist)...)
	if r.Stream {
		b.WriteString("<h2>Stream</h2>\n")
		writeCDF(&b, "Time to first token CDF (log x)", one("ttft", r.TTFTHist)...)
		writeCDF(&b, "Gap between events CDF (log x)", one("event gap", r.GapHist)...)
	}
	b.WriteString("<p><small>Latency is measured by the client from the send time (closed loop) or the scheduled send time (open loop).</small></p>\n</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeReportFile writes a report page to path ("" = none), saying where
// on stderr; false when it could not.
func writeReportFile(path, cmd string, write func(io.Writer) error, stderr io.Writer) bool {
	if path == "" {
		return true
	}
	f, err := os.Create(path)
	if err == nil {
		err = write(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "llmedge bench %s: report: %v\n", cmd, err)
		return false
	}
	fmt.Fprintln(stderr, "report written to", path)
	return true
}
