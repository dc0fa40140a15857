package bench

import (
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// WriteHTML writes c as a self-contained HTML page: inline SVG charts (no
// scripts, no external assets) of both lanes' latency CDFs on a log axis,
// the TTFT CDFs when streaming, and the per-percentile overhead.
func (c *CompareResult) WriteHTML(w io.Writer) error {
	var b strings.Builder
	e := html.EscapeString
	d, t := c.Direct.Result, c.Through.Result
	b.WriteString(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>llmedge bench compare</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:960px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}svg{background:#fff;border:1px solid #ddd;margin:0.5em 0}
.direct{color:#1f77b4}.through{color:#d62728}small{color:#666}
</style></head><body>
<h1>llmedge overhead</h1>
`)
	load := fmt.Sprintf("closed loop, concurrency %d", c.Concurrency)
	if c.Rate > 0 {
		load = fmt.Sprintf("open loop, %.1f req/s", c.Rate)
	}
	fmt.Fprintf(&b, "<p>%d rounds × 2 lanes × %.1f s (alternating), %s, stream %v, anthropic upstream %v. Generated %s.</p>\n",
		c.Rounds, c.DurationS, e(load), c.Stream, c.Anthropic, e(time.Now().UTC().Format(time.RFC3339)))
	fmt.Fprintf(&b, "<p><span class=direct>■ direct</span> %s (%s) &nbsp; <span class=through>■ through llmedge</span> %s (%s)</p>\n",
		e(c.Direct.Target), e(c.Direct.Model), e(c.Through.Target), e(c.Through.Model))

	b.WriteString("<table><tr><th>latency ms</th><th>req/s</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>errors</th></tr>\n")
	row := func(name string, s Summary, rps string, errs string) {
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%s</td></tr>\n",
			e(name), rps, s.P50, s.P90, s.P99, s.P999, s.Max, errs)
	}
	row("direct", d.Latency, fmt.Sprintf("%.1f", d.Throughput), fmt.Sprint(d.Errors))
	row("through llmedge", t.Latency, fmt.Sprintf("%.1f", t.Throughput), fmt.Sprint(t.Errors))
	o := c.LatencyOverhead
	row("overhead", Summary{P50: o.P50, P90: o.P90, P99: o.P99, P999: o.P999, Max: o.Max}, "", "")
	if c.TTFTOverhead != nil {
		row("TTFT direct", d.TTFT, "", "")
		row("TTFT through", t.TTFT, "", "")
		o := *c.TTFTOverhead
		row("TTFT overhead", Summary{P50: o.P50, P90: o.P90, P99: o.P99, P999: o.P999, Max: o.Max}, "", "")
	}
	b.WriteString("</table>\n<p>")
	fmt.Fprintf(&b, "Throughput ratio (through ÷ direct): %.3f.", c.ThroughputRatio)
	if c.CPUPerRequestUS != nil {
		fmt.Fprintf(&b, " llmedge CPU per request: %.1f µs.", *c.CPUPerRequestUS)
	}
	if c.PeakRSSBytes != nil {
		fmt.Fprintf(&b, " llmedge peak RSS: %.1f MiB.", float64(*c.PeakRSSBytes)/(1<<20))
	}
	b.WriteString("</p>\n")

	b.WriteString("<h2>Latency distribution</h2>\n")
	writeCDF(&b, "Request latency CDF (log x)", d.LatencyHist, t.LatencyHist)
	writePercentiles(&b, "Request latency by percentile (log x: 90%, 99%, 99.9% … equally spaced)", d.LatencyHist, t.LatencyHist)
	if c.Stream {
		b.WriteString("<h2>Time to first token</h2>\n")
		writeCDF(&b, "TTFT CDF (log x)", d.TTFTHist, t.TTFTHist)
	}
	b.WriteString("<h2>Overhead by percentile</h2>\n")
	writeOverheadBars(&b, c)
	b.WriteString("<p><small>Latency is measured by the client from the send time (closed loop) or the scheduled send time (open loop). Overhead = through − direct at each percentile.</small></p>\n</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

const (
	svgW, svgH                     = 840, 360
	padL, padR, padT, padB float64 = 60, 20, 30, 40
)

// writeCDF draws the CDFs of two histograms (ns) on a log latency axis.
func writeCDF(b *strings.Builder, title string, hs ...*Histogram) {
	lo, hi := math.Inf(1), 0.0
	for _, h := range hs {
		if h == nil || h.Count() == 0 {
			continue
		}
		lo = math.Min(lo, float64(max(h.Min(), 1))/1e6)
		hi = math.Max(hi, float64(max(h.Max(), 1))/1e6)
	}
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-size="11">`+"\n", svgW, svgH, svgW, svgH)
	fmt.Fprintf(b, `<text x="%.0f" y="18" font-size="13">%s</text>`+"\n", padL, html.EscapeString(title))
	if hi == 0 {
		b.WriteString(`<text x="60" y="60">no data</text></svg>` + "\n")
		return
	}
	lmin := math.Floor(math.Log10(lo))
	lmax := math.Ceil(math.Log10(hi))
	if lmax <= lmin {
		lmax = lmin + 1
	}
	pw, ph := svgW-padL-padR, svgH-padT-padB
	x := func(ms float64) float64 {
		return padL + (math.Log10(math.Max(ms, math.Pow(10, lmin)))-lmin)/(lmax-lmin)*pw
	}
	y := func(f float64) float64 { return padT + (1-f)*ph }
	// Grid and axes.
	for dec := lmin; dec <= lmax; dec++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, dec)
			if dec == lmax && m > 1 {
				break
			}
			xv := x(v)
			stroke := "#eee"
			if m == 1 {
				stroke = "#ccc"
				fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", xv, padT+ph+15, fmtMS(v))
			}
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`+"\n", xv, padT, xv, padT+ph, stroke)
		}
	}
	for _, f := range []float64{0, 0.25, 0.5, 0.75, 0.9, 0.99, 1} {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`, padL, y(f), padL+pw, y(f))
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end">%g</text>`+"\n", padL-4, y(f)+4, f)
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">latency (ms, log scale)</text>`+"\n", padL+pw/2, svgH-5)
	fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#999"/>`+"\n", padL, padT, pw, ph)
	colors := []string{"#1f77b4", "#d62728"}
	names := []string{"direct", "through llmedge"}
	for i, h := range hs {
		if h == nil || h.Count() == 0 {
			continue
		}
		var pts strings.Builder
		var cum uint64
		n := float64(h.Count())
		fmt.Fprintf(&pts, "%.1f,%.1f", x(float64(h.Min())/1e6), y(0))
		h.Each(func(v int64, c uint64) {
			cum += c
			fmt.Fprintf(&pts, " %.1f,%.1f", x(float64(v)/1e6), y(float64(cum)/n))
		})
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.8" points="%s"><title>%s</title></polyline>`+"\n",
			colors[i%2], pts.String(), names[i%2])
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" fill="%s">%s</text>`+"\n", padL+8, padT+16+float64(i)*14, colors[i%2], names[i%2])
	}
	b.WriteString("</svg>\n")
}

// writeOverheadBars draws through − direct per percentile as bars.
func writeOverheadBars(b *strings.Builder, c *CompareResult) {
	type bar struct {
		label string
		v     float64
	}
	o := c.LatencyOverhead
	bars := []bar{{"p50", o.P50}, {"p90", o.P90}, {"p99", o.P99}, {"p99.9", o.P999}, {"max", o.Max}}
	if c.TTFTOverhead != nil {
		t := *c.TTFTOverhead
		bars = append(bars, bar{"TTFT p50", t.P50}, bar{"TTFT p90", t.P90}, bar{"TTFT p99", t.P99}, bar{"TTFT p99.9", t.P999})
	}
	// Symmetric log scale: sub-millisecond p50 overheads and 100 ms tails
	// both stay readable.
	const unit = 0.01 // ms
	symlog := func(v float64) float64 { return math.Log10(1 + math.Abs(v)/unit) }
	lim := 0.1
	for _, br := range bars {
		lim = math.Max(lim, math.Abs(br.v))
	}
	const h = 260
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-size="11">`+"\n", svgW, h, svgW, h)
	pw, ph := svgW-padL-padR, float64(h)-padT-padB
	zero := padT + ph/2
	fmt.Fprintf(b, `<text x="%.0f" y="18" font-size="13">Overhead (through − direct), ms, symmetric log scale</text>`+"\n", padL)
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#999"/>`+"\n", padL, zero, padL+pw, zero)
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end">+%s</text><text x="%.1f" y="%.1f" text-anchor="end">0</text><text x="%.1f" y="%.1f" text-anchor="end">−%s</text>`+"\n",
		padL-4, padT+4, fmtMS(lim), padL-4, zero+4, padL-4, padT+ph+4, fmtMS(lim))
	slot := pw / float64(len(bars))
	for i, br := range bars {
		bh := symlog(br.v) / symlog(lim) * ph / 2
		top := zero - bh
		fill := "#d62728"
		if br.v < 0 {
			top, fill = zero, "#2ca02c"
		}
		bx := padL + float64(i)*slot + slot*0.2
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %+.3f ms</title></rect>`+"\n",
			bx, top, slot*0.6, bh, fill, br.label, br.v)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text><text x="%.1f" y="%.1f" text-anchor="middle">%+.3f</text>`+"\n",
			bx+slot*0.3, padT+ph+15, br.label, bx+slot*0.3, padT+ph+28, br.v)
	}
	b.WriteString("</svg>\n")
}

func fmtMS(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%gs", v/1000)
	case v >= 1:
		return fmt.Sprintf("%gms", v)
	default:
		return fmt.Sprintf("%gµs", v*1000)
	}
}

// writePercentiles draws latency (log y) against percentile on the usual
// HdrHistogram axis: x = log10(1/(1-q)), so 90%, 99%, 99.9% are equally
// spaced and the tail is visible.
func writePercentiles(b *strings.Builder, title string, hs ...*Histogram) {
	lo, hi := math.Inf(1), 0.0
	var n uint64
	for _, h := range hs {
		if h == nil || h.Count() == 0 {
			continue
		}
		lo = math.Min(lo, float64(max(h.Min(), 1))/1e6)
		hi = math.Max(hi, float64(max(h.Max(), 1))/1e6)
		n = max(n, h.Count())
	}
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-size="11">`+"\n", svgW, svgH, svgW, svgH)
	fmt.Fprintf(b, `<text x="%.0f" y="18" font-size="13">%s</text>`+"\n", padL, html.EscapeString(title))
	if hi == 0 {
		b.WriteString(`<text x="60" y="60">no data</text></svg>` + "\n")
		return
	}
	ymin, ymax := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if ymax <= ymin {
		ymax = ymin + 1
	}
	xmax := math.Min(math.Max(math.Ceil(math.Log10(float64(n))), 1), 6)
	pw, ph := svgW-padL-padR, svgH-padT-padB
	xq := func(q float64) float64 {
		d := xmax
		if q < 1 {
			d = math.Min(-math.Log10(1-q), xmax)
		}
		return padL + d/xmax*pw
	}
	y := func(ms float64) float64 {
		return padT + (1-(math.Log10(math.Max(ms, math.Pow(10, ymin)))-ymin)/(ymax-ymin))*ph
	}
	for d := 0.0; d <= xmax; d++ {
		q := 1 - math.Pow(10, -d)
		x := padL + d/xmax*pw
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n",
			x, padT, x, padT+ph, x, padT+ph+15, strconv.FormatFloat(q*100, 'f', int(max(d-2, 0)), 64)+"%")
	}
	for dec := ymin; dec <= ymax; dec++ {
		v := math.Pow(10, dec)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n",
			padL, y(v), padL+pw, y(v), padL-4, y(v)+4, fmtMS(v))
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">percentile</text>`+"\n", padL+pw/2, svgH-5)
	fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#999"/>`+"\n", padL, padT, pw, ph)
	colors := []string{"#1f77b4", "#d62728"}
	names := []string{"direct", "through llmedge"}
	for i, h := range hs {
		if h == nil || h.Count() == 0 {
			continue
		}
		var pts strings.Builder
		var cum uint64
		total := float64(h.Count())
		h.Each(func(v int64, c uint64) {
			q0 := float64(cum) / total
			cum += c
			ms := float64(v) / 1e6
			fmt.Fprintf(&pts, "%.1f,%.1f %.1f,%.1f ", xq(q0), y(ms), xq(float64(cum)/total), y(ms))
		})
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.8" points="%s"><title>%s</title></polyline>`+"\n",
			colors[i%2], strings.TrimSpace(pts.String()), names[i%2])
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" fill="%s">%s</text>`+"\n", padL+8, padT+16+float64(i)*14, colors[i%2], names[i%2])
	}
	b.WriteString("</svg>\n")
}
