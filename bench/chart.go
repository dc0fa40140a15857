package bench

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// The report's charts: inline SVG, no scripts. Axes span the data, from
// the 1-2-5 value just below its least to the one just above its
// greatest (never a decade of emptiness, never a half for values that
// do not occur), and are labelled at 1-2-5 values in µs, ms or s, thinned
// so that no two labels overlap.

const (
	svgW, svgH                     = 840, 360
	padL, padR, padT, padB float64 = 64, 20, 30, 40
	// minLabelGapX and minLabelGapY are the least distance between two
	// axis labels, in pixels (11 px text).
	minLabelGapX, minLabelGapY = 48.0, 13.0
)

// series is one line of a chart: a histogram of nanoseconds.
type series struct {
	name, color string
	h           *Histogram
}

var (
	directColor  = "#1f77b4"
	throughColor = "#d62728"
)

// fmtDur labels a duration given in milliseconds in µs, ms or s with at
// most three significant digits ("500µs", "1.5ms", "2s"); negative
// values get a minus sign.
func fmtDur(ms float64) string {
	sign := ""
	if ms < 0 {
		sign, ms = "−", -ms
	}
	var v float64
	var unit string
	switch {
	case ms == 0:
		return "0"
	case ms < 0.9995:
		v, unit = ms*1000, "µs"
	case ms < 999.5:
		v, unit = ms, "ms"
	default:
		v, unit = ms/1000, "s"
	}
	prec := 0
	switch {
	case v < 9.995:
		prec = 2
	case v < 99.95:
		prec = 1
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return sign + s + unit
}

var mantissas = [3]float64{1, 2, 5}

// floor125 is the greatest 1-2-5 value (1, 2 or 5 times a power of ten)
// at most v > 0; ceil125 the least at least v.
func floor125(v float64) float64 {
	e := math.Floor(math.Log10(v))
	best := math.Pow(10, e-1) * 5
	for _, m := range mantissas {
		if c := m * math.Pow(10, e); c <= v*(1+1e-9) {
			best = c
		}
	}
	return best
}

func ceil125(v float64) float64 {
	e := math.Floor(math.Log10(v))
	for _, m := range mantissas {
		if c := m * math.Pow(10, e); c >= v*(1-1e-9) {
			return c
		}
	}
	return math.Pow(10, e+1)
}

// ticks125 are the 1-2-5 values from lo to hi (both 1-2-5 values).
func ticks125(lo, hi float64) []float64 {
	var out []float64
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for _, m := range mantissas {
			if v := m * math.Pow(10, e); v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
				out = append(out, v)
			}
		}
	}
	return out
}

// thin keeps the (monotonic) positions at least gap apart, walking from
// the first: which labels to draw. The last one is kept in place of the
// one kept before it when they are too close (the axis' end is labelled).
func thin(pos []float64, gap float64) []bool {
	keep := make([]bool, len(pos))
	last := math.Inf(-1)
	lastI := -1
	for i, p := range pos {
		if math.Abs(p-last) >= gap || lastI < 0 {
			keep[i], last, lastI = true, p, i
		}
	}
	if n := len(pos); !keep[n-1] && lastI > 0 {
		keep[lastI], keep[n-1] = false, true
	}
	return keep
}

// histRange is the least and greatest value of the histograms, in ms
// (0, 0 when they are empty).
func histRange(ss []series) (lo, hi float64) {
	lo = math.Inf(1)
	for _, s := range ss {
		if s.h == nil || s.h.Count() == 0 {
			continue
		}
		lo = math.Min(lo, float64(max(s.h.Min(), 1))/1e6)
		hi = math.Max(hi, float64(max(s.h.Max(), 1))/1e6)
	}
	if hi == 0 {
		return 0, 0
	}
	return lo, hi
}

// logAxis is a log-scaled axis over the 1-2-5 values around [lo, hi].
type logAxis struct{ lo, hi float64 }

func newLogAxis(lo, hi float64) logAxis {
	a := logAxis{floor125(lo), ceil125(hi)}
	if a.hi <= a.lo {
		a.hi = ceil125(a.lo * 1.5)
	}
	return a
}

// frac is where v falls on the axis, 0 at lo and 1 at hi (clamped).
func (a logAxis) frac(v float64) float64 {
	v = math.Min(math.Max(v, a.lo), a.hi)
	return (math.Log10(v) - math.Log10(a.lo)) / (math.Log10(a.hi) - math.Log10(a.lo))
}

// svgOpen starts a chart with its title and, right-aligned on the
// title's line, its legend (so neither overlaps the plot).
func svgOpen(b *strings.Builder, h int, title string, ss []series) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-size="11">`+"\n", svgW, h, svgW, h)
	fmt.Fprintf(b, `<text x="%.0f" y="18" font-size="13">%s</text>`+"\n", padL, html.EscapeString(title))
	if len(ss) < 2 {
		return
	}
	fmt.Fprintf(b, `<text x="%.0f" y="18" text-anchor="end">`, svgW-padR)
	for i, s := range ss {
		if i > 0 {
			b.WriteString(`<tspan> </tspan>`)
		}
		fmt.Fprintf(b, `<tspan fill="%s">■ %s</tspan>`, s.color, html.EscapeString(s.name))
	}
	b.WriteString("</text>\n")
}

// startLogChart opens a chart of ss and returns its log latency axis;
// false, the chart closed saying so, when they hold no data.
func startLogChart(b *strings.Builder, title string, ss []series) (logAxis, bool) {
	svgOpen(b, svgH, title, ss)
	lo, hi := histRange(ss)
	if hi == 0 {
		b.WriteString(`<text x="60" y="60">no data</text></svg>` + "\n")
		return logAxis{}, false
	}
	return newLogAxis(lo, hi), true
}

// latencyTicks draws ax's 1-2-5 ticks: grid lines across the plot at
// pos(v) and the labels that do not overlap, below the plot (x axis) or
// left of it (vertical: y axis).
func latencyTicks(b *strings.Builder, ax logAxis, pos func(float64) float64, vertical bool) {
	ticks := ticks125(ax.lo, ax.hi)
	ps := make([]float64, len(ticks))
	for i, v := range ticks {
		ps[i] = pos(v)
	}
	gap := minLabelGapX
	if vertical {
		gap = minLabelGapY
	}
	keep := thin(ps, gap)
	ph := svgH - padT - padB
	for i, v := range ticks {
		p := ps[i]
		if vertical {
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e4e4e4"/>`+"\n", padL, p, svgW-padR, p)
		} else {
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e4e4e4"/>`+"\n", p, padT, p, padT+ph)
		}
		switch {
		case !keep[i]:
		case vertical:
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", padL-4, p+4, fmtDur(v))
		default:
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", p, padT+ph+15, fmtDur(v))
		}
	}
}

// frame draws the plot's border and the x axis' title.
func frame(b *strings.Builder, xTitle string) {
	pw, ph := svgW-padL-padR, svgH-padT-padB
	fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", padL+pw/2, svgH-5, xTitle)
	fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#999"/>`+"\n", padL, padT, pw, ph)
}

// polyline draws one series' line through points.
func polyline(b *strings.Builder, s series, points string) {
	fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.8" points="%s"><title>%s</title></polyline>`+"\n",
		s.color, points, html.EscapeString(s.name))
}

// writeCDF draws the CDFs of histograms (ns) on a log latency axis.
func writeCDF(b *strings.Builder, title string, ss ...series) {
	ax, ok := startLogChart(b, title, ss)
	if !ok {
		return
	}
	pw, ph := svgW-padL-padR, svgH-padT-padB
	x := func(ms float64) float64 { return padL + ax.frac(ms)*pw }
	y := func(f float64) float64 { return padT + (1-f)*ph }
	latencyTicks(b, ax, x, false)
	fs := []float64{1, 0.99, 0.9, 0.75, 0.5, 0.25, 0}
	ypos := make([]float64, len(fs))
	for i, f := range fs {
		ypos[i] = y(f)
	}
	ykeep := thin(ypos, minLabelGapY)
	for i, f := range fs {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`, padL, ypos[i], padL+pw, ypos[i])
		if ykeep[i] {
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end">%g</text>`+"\n", padL-4, ypos[i]+4, f)
		}
	}
	frame(b, "latency (log scale)")
	for _, s := range ss {
		if s.h == nil || s.h.Count() == 0 {
			continue
		}
		var pts strings.Builder
		var cum uint64
		n := float64(s.h.Count())
		fmt.Fprintf(&pts, "%.1f,%.1f", x(float64(s.h.Min())/1e6), y(0))
		s.h.Each(func(v int64, c uint64) {
			cum += c
			fmt.Fprintf(&pts, " %.1f,%.1f", x(float64(v)/1e6), y(float64(cum)/n))
		})
		polyline(b, s, pts.String())
	}
	b.WriteString("</svg>\n")
}

// writePercentiles draws latency (log y) against percentile on the usual
// HdrHistogram axis: x = log10(1/(1-q)), so 90%, 99%, 99.9% are equally
// spaced and the tail is visible.
func writePercentiles(b *strings.Builder, title string, ss ...series) {
	ax, ok := startLogChart(b, title, ss)
	if !ok {
		return
	}
	var n uint64
	for _, s := range ss {
		if s.h != nil {
			n = max(n, s.h.Count())
		}
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
	y := func(ms float64) float64 { return padT + (1-ax.frac(ms))*ph }
	for d := 0.0; d <= xmax; d++ {
		q := 1 - math.Pow(10, -d)
		x := padL + d/xmax*pw
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n",
			x, padT, x, padT+ph, x, padT+ph+15, strconv.FormatFloat(q*100, 'f', int(max(d-2, 0)), 64)+"%")
	}
	latencyTicks(b, ax, y, true)
	frame(b, "percentile")
	for _, s := range ss {
		if s.h == nil || s.h.Count() == 0 {
			continue
		}
		var pts strings.Builder
		var cum uint64
		total := float64(s.h.Count())
		s.h.Each(func(v int64, c uint64) {
			q0 := float64(cum) / total
			cum += c
			ms := float64(v) / 1e6
			fmt.Fprintf(&pts, "%.1f,%.1f %.1f,%.1f ", xq(q0), y(ms), xq(float64(cum)/total), y(ms))
		})
		polyline(b, s, strings.TrimSpace(pts.String()))
	}
	b.WriteString("</svg>\n")
}
