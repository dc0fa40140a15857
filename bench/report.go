package bench

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
	"time"
)

// reportHead is the start of a report page, up to its <h1>.
func reportHead(b *strings.Builder, title string) {
	b.WriteString(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>` + html.EscapeString(title) + `</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:960px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}svg{background:#fff;border:1px solid #ddd;margin:0.5em 0}
.direct{color:#1f77b4}.through{color:#d62728}small{color:#666}
</style></head><body>
`)
}

// summaryRow writes one row of a latency table (ms).
func summaryRow(b *strings.Builder, name string, s Summary, rps, errs string) {
	fmt.Fprintf(b, "<tr><td>%s</td><td>%s</td><td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%s</td></tr>\n",
		html.EscapeString(name), rps, s.P50, s.P90, s.P99, s.P999, s.Max, errs)
}

// WriteHTML writes c as a self-contained HTML page: inline SVG charts (no
// scripts, no external assets) of both lanes' latency CDFs on a log axis,
// the TTFT CDFs when streaming, and the per-percentile overhead.
func (c *CompareResult) WriteHTML(w io.Writer) error {
	var b strings.Builder
	e := html.EscapeString
	d, t := c.Direct.Result, c.Through.Result
	reportHead(&b, "llmedge bench compare")
	b.WriteString("<h1>llmedge overhead</h1>\n")
	load := fmt.Sprintf("closed loop, concurrency %d", c.Concurrency)
	if c.Rate > 0 {
		load = fmt.Sprintf("open loop, %.1f req/s", c.Rate)
	}
	fmt.Fprintf(&b, "<p>%d rounds × 2 lanes × %.1f s (alternating), %s, stream %v, anthropic upstream %v. Generated %s.</p>\n",
		c.Rounds, c.DurationS, e(load), c.Stream, c.Anthropic, e(time.Now().UTC().Format(time.RFC3339)))
	fmt.Fprintf(&b, "<p><span class=direct>■ direct</span> %s (%s) &nbsp; <span class=through>■ through llmedge</span> %s (%s)</p>\n",
		e(c.Direct.Target), e(c.Direct.Model), e(c.Through.Target), e(c.Through.Model))

	b.WriteString("<table><tr><th>latency ms</th><th>req/s</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>errors</th></tr>\n")
	summaryRow(&b, "direct", d.Latency, fmt.Sprintf("%.1f", d.Throughput), fmt.Sprint(d.Errors))
	summaryRow(&b, "through llmedge", t.Latency, fmt.Sprintf("%.1f", t.Throughput), fmt.Sprint(t.Errors))
	o := c.LatencyOverhead
	summaryRow(&b, "overhead", Summary{P50: o.P50, P90: o.P90, P99: o.P99, P999: o.P999, Max: o.Max}, "", "")
	if c.TTFTOverhead != nil {
		summaryRow(&b, "TTFT direct", d.TTFT, "", "")
		summaryRow(&b, "TTFT through", t.TTFT, "", "")
		o := *c.TTFTOverhead
		summaryRow(&b, "TTFT overhead", Summary{P50: o.P50, P90: o.P90, P99: o.P99, P999: o.P999, Max: o.Max}, "", "")
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

	lanes := func(dh, th *Histogram) []series {
		return []series{{"direct", directColor, dh}, {"through llmedge", throughColor, th}}
	}
	b.WriteString("<h2>Latency distribution</h2>\n")
	writeCDF(&b, "Request latency CDF (log x)", lanes(d.LatencyHist, t.LatencyHist)...)
	writePercentiles(&b, "Request latency by percentile (log x: 90%, 99%, 99.9% … equally spaced)", lanes(d.LatencyHist, t.LatencyHist)...)
	if c.Stream {
		b.WriteString("<h2>Time to first token</h2>\n")
		writeCDF(&b, "TTFT CDF (log x)", lanes(d.TTFTHist, t.TTFTHist)...)
	}
	b.WriteString("<h2>Overhead by percentile</h2>\n")
	writeOverheadBars(&b, c)
	b.WriteString("<p><small>Latency is measured by the client from the send time (closed loop) or the scheduled send time (open loop). Overhead = through − direct at each percentile.</small></p>\n</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// overheadUnit is where the overhead chart's symmetric log scale turns
// from linear to logarithmic, in ms (10 µs).
const overheadUnit = 0.01

// writeOverheadBars draws through − direct per percentile as bars on a
// symmetric log scale (sub-millisecond p50s and 100 ms tails both stay
// readable) that spans the values: no negative half unless an overhead
// is negative. Ticks are 0, the powers of ten in between and the 1-2-5
// values bounding the data.
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
	var top, bot float64
	for _, br := range bars {
		if br.v > 0 {
			top = math.Max(top, ceil125(br.v))
		} else if br.v < 0 {
			bot = math.Min(bot, -ceil125(-br.v))
		}
	}
	if top == 0 && bot == 0 {
		top = 0.1
	}
	s := func(v float64) float64 { return math.Copysign(math.Log10(1+math.Abs(v)/overheadUnit), v) }
	const h = 260
	svgOpen(b, h, "Overhead (through − direct), symmetric log scale", nil)
	pw, ph := svgW-padL-padR, float64(h)-padT-padB
	y := func(v float64) float64 { return padT + (s(top)-s(v))/(s(top)-s(bot))*ph }
	// Ticks from the top down: top, the powers of ten below it, 0, the
	// negative ones, bot.
	ticks := []float64{}
	if top > 0 {
		ticks = append(ticks, top)
		for p := math.Pow(10, math.Floor(math.Log10(top))); p >= overheadUnit; p /= 10 {
			if p < top*(1-1e-9) {
				ticks = append(ticks, p)
			}
		}
	}
	ticks = append(ticks, 0)
	if bot < 0 {
		var neg []float64
		for p := overheadUnit; p < -bot*(1-1e-9); p *= 10 {
			neg = append(neg, -p)
		}
		ticks = append(append(ticks, neg...), bot)
	}
	pos := make([]float64, len(ticks))
	for i, v := range ticks {
		pos[i] = y(v)
	}
	keep := thin(pos, minLabelGapY)
	// 0 is always labelled; a label too close to it gives way.
	zero := y(0)
	for i, v := range ticks {
		keep[i] = v == 0 || keep[i] && math.Abs(pos[i]-zero) >= minLabelGapY
	}
	for i, v := range ticks {
		stroke := "#eee"
		if v == 0 {
			stroke = "#999"
		}
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`+"\n", padL, pos[i], padL+pw, pos[i], stroke)
		if keep[i] {
			label := fmtDur(v)
			if v > 0 {
				label = "+" + label
			}
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", padL-4, pos[i]+4, label)
		}
	}
	slot := pw / float64(len(bars))
	for i, br := range bars {
		by, fill := y(br.v), "#d62728"
		bh := zero - by
		if br.v < 0 {
			by, bh, fill = zero, y(br.v)-zero, "#2ca02c"
		}
		bx := padL + float64(i)*slot + slot*0.2
		val := fmtDur(br.v)
		if br.v > 0 {
			val = "+" + val
		}
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %s</title></rect>`+"\n",
			bx, by, slot*0.6, bh, fill, br.label, val)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text><text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n",
			bx+slot*0.3, padT+ph+15, br.label, bx+slot*0.3, padT+ph+28, val)
	}
	b.WriteString("</svg>\n")
}
