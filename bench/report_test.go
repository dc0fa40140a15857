package bench

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
)

func TestFmtDur(t *testing.T) {
	for ms, want := range map[float64]string{
		0: "0", 0.5: "500µs", 0.0123: "12.3µs", 0.01: "10µs", 1.5: "1.5ms", 2: "2ms", 12.34: "12.3ms",
		347.671: "348ms", 347671: "348s", 2000: "2s", -0.25: "−250µs", 0.9999: "1ms", 999.9: "1s",
	} {
		if got := fmtDur(ms); got != want {
			t.Errorf("fmtDur(%v) = %q, want %q", ms, got, want)
		}
	}
}

// svgLabel is one text element of a chart.
type svgLabel struct {
	x, y   float64
	anchor string
	text   string
}

var textRE = regexp.MustCompile(`<text x="([-0-9.]+)" y="([-0-9.]+)"(?: text-anchor="(\w+)")?[^>]*>([^<]*)</text>`)

// charts splits a report into its SVGs' labels.
func charts(page string) [][]svgLabel {
	var out [][]svgLabel
	for _, svg := range strings.Split(page, "<svg")[1:] {
		var ls []svgLabel
		for _, m := range textRE.FindAllStringSubmatch(svg, -1) {
			x, _ := strconv.ParseFloat(m[1], 64)
			y, _ := strconv.ParseFloat(m[2], 64)
			ls = append(ls, svgLabel{x, y, m[3], m[4]})
		}
		out = append(out, ls)
	}
	return out
}

// tickValue parses an axis label ("+500µs", "−2ms", "1s", "0") to ms;
// ok is false for anything else (an unrounded or unitless number).
var tickRE = regexp.MustCompile(`^([+−]?)(\d+(?:\.\d+)?)(µs|ms|s)$`)

func tickValue(s string) (float64, bool) {
	if s == "0" {
		return 0, true
	}
	m := tickRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	v, _ := strconv.ParseFloat(m[2], 64)
	v *= map[string]float64{"µs": 1e-3, "ms": 1, "s": 1e3}[m[3]]
	if m[1] == "−" {
		v = -v
	}
	return v, true
}

// is125 reports whether |v| is 1, 2 or 5 times a power of ten.
func is125(v float64) bool {
	v = math.Abs(v)
	if v == 0 {
		// An axis over data that reaches 0 (gaps between events on
		// loopback can be under a microsecond) starts at 0.
		return true
	}
	e := math.Pow(10, math.Floor(math.Log10(v)+1e-9))
	m := v / e
	return math.Abs(m-1) < 1e-6 || math.Abs(m-2) < 1e-6 || math.Abs(m-5) < 1e-6
}

func histOf(ms ...float64) *Histogram {
	h := NewHistogram()
	for _, v := range ms {
		h.Record(int64(v * 1e6))
	}
	return h
}

func compareFixture(o Overhead) *CompareResult {
	var d, th []float64
	for i := range 1000 {
		v := 0.8 + float64(i)*0.004 // 0.8 .. 4.8 ms
		d = append(d, v)
		th = append(th, v+0.3)
	}
	dr := &Result{LatencyHist: histOf(d...), TTFTHist: histOf(d...)}
	tr := &Result{LatencyHist: histOf(th...), TTFTHist: histOf(th...)}
	return &CompareResult{Rounds: 1, Concurrency: 8, Direct: Lane{Result: dr}, Through: Lane{Result: tr}, LatencyOverhead: o}
}

func render(t *testing.T, w func(*bytes.Buffer) error) string {
	t.Helper()
	var b bytes.Buffer
	if err := w(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The overhead chart's axis: rounded 1-2-5 ticks in µs/ms/s, from 0 up
// to the data's top when every overhead is positive (no negative half),
// a negative side only as deep as the most negative value.
func TestOverheadChartAxis(t *testing.T) {
	const zeroY = padT + (260 - padT - padB) // the plot's bottom
	for _, c := range []struct {
		name     string
		o        Overhead
		top, bot float64
	}{
		{"positive", Overhead{P50: 0.347, P90: 0.51, P99: 3.2, P999: 12.4, Max: 347671}, 5e5, 0},
		{"mixed", Overhead{P50: 0.012, P90: -0.03, P99: 0.7, P999: 2.2, Max: 40}, 50, -0.05},
	} {
		page := render(t, func(b *bytes.Buffer) error { return compareFixture(c.o).WriteHTML(b) })
		cs := charts(page)
		bars := cs[len(cs)-1]
		var ticks []svgLabel
		for _, l := range bars {
			if l.anchor == "end" {
				ticks = append(ticks, l)
			}
		}
		var vals []float64
		for _, l := range ticks {
			v, ok := tickValue(l.text)
			if !ok || v != 0 && !is125(v) {
				t.Errorf("%s: tick label %q is not a rounded 1-2-5 value with a unit", c.name, l.text)
			}
			vals = append(vals, v)
			if l.x-4*float64(len([]rune(l.text)))*1.6 < 0 {
				t.Errorf("%s: tick label %q would be clipped at the left edge", c.name, l.text)
			}
		}
		if len(vals) < 3 || vals[0] != c.top || vals[len(vals)-1] != c.bot && c.bot != 0 {
			t.Errorf("%s: ticks %v, want from %v down to %v", c.name, vals, c.top, c.bot)
		}
		for i := 1; i < len(ticks); i++ {
			if ticks[i].y-ticks[i-1].y < minLabelGapY-0.01 {
				t.Errorf("%s: labels %q and %q overlap", c.name, ticks[i-1].text, ticks[i].text)
			}
		}
		if c.bot == 0 {
			last := ticks[len(ticks)-1]
			if last.text != "0" || math.Abs(last.y-4-zeroY) > 0.5 {
				t.Errorf("%s: the axis does not start at 0 at the bottom: %+v", c.name, last)
			}
			for _, l := range bars {
				if strings.HasPrefix(l.text, "−") {
					t.Errorf("%s: negative label %q with no negative value", c.name, l.text)
				}
			}
		}
		svg := page[strings.LastIndex(page, "<svg"):]
		if strings.Contains(svg, "347671") || strings.Contains(svg, "347.671") {
			t.Errorf("%s: an unrounded value in the chart", c.name)
		}
	}
}

// The CDF's axes: x from the 1-2-5 value below the fastest request to
// the one above the slowest, rounded labels that do not overlap; the
// y labels (0.9, 0.99, 1) do not overlap either; the legend sits on the
// title's line, outside the plot.
func TestCDFAxes(t *testing.T) {
	page := render(t, func(b *bytes.Buffer) error { return compareFixture(Overhead{P50: 0.3}).WriteHTML(b) })
	cdf := charts(page)[0]
	var xs, ys []svgLabel
	for _, l := range cdf {
		switch {
		case l.anchor == "middle" && l.y > padT+10 && l.y < svgH-10:
			xs = append(xs, l)
		case l.anchor == "end" && l.y > padT-5:
			ys = append(ys, l)
		case l.y < padT && l.anchor == "end":
			if l.y > padT-10 {
				t.Errorf("legend inside the plot: %+v", l)
			}
		}
	}
	if len(xs) < 3 {
		t.Fatalf("x labels %+v", xs)
	}
	first, _ := tickValue(xs[0].text)
	last, _ := tickValue(xs[len(xs)-1].text)
	if first != 0.5 || last != 10 {
		t.Errorf("x axis from %s to %s, want 500µs (below 0.8 ms) to 10ms (above 5.1 ms)", xs[0].text, xs[len(xs)-1].text)
	}
	for i, l := range xs {
		if v, ok := tickValue(l.text); !ok || !is125(v) {
			t.Errorf("x label %q", l.text)
		}
		if i > 0 && l.x-xs[i-1].x < minLabelGapX-0.01 {
			t.Errorf("x labels %q and %q overlap", xs[i-1].text, l.text)
		}
	}
	for i := 1; i < len(ys); i++ {
		if ys[i].y-ys[i-1].y < minLabelGapY-0.01 {
			t.Errorf("y labels %q and %q overlap", ys[i-1].text, ys[i].text)
		}
	}
	if len(ys) < 5 || ys[0].text != "1" {
		t.Errorf("y labels %+v", ys)
	}
}

// bench run --report writes a self-contained page with the run's
// charts: latency CDF and percentiles, and TTFT and event gaps for a
// stream.
func TestRunReport(t *testing.T) {
	_, base := startUpstream(t, UpstreamOptions{Chunks: 4, ChunkBytes: 4, Gap: time.Millisecond})
	path := filepath.Join(t.TempDir(), "run.html")
	var out, errOut bytes.Buffer
	rc := Main([]string{"run", "--target", "http://" + base, "--model", "m", "--stream", "--requests", "40", "--concurrency", "4", "--report", path}, &out, &errOut)
	if rc != 0 {
		t.Fatalf("rc %d: %s %s", rc, out.String(), errOut.String())
	}
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!DOCTYPE html>", "llmedge bench run", "<polyline", "Time to first token", "Gap between events", "</html>"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
	if bytes.Contains(page, []byte("<script")) {
		t.Error("report not self-contained")
	}
	cs := charts(string(page))
	if len(cs) != 4 {
		t.Fatalf("%d charts, want 4", len(cs))
	}
	for i, c := range cs {
		for _, l := range c {
			if r := []rune(l.text); len(r) > 0 && (unicode.IsDigit(r[0]) || r[0] == '+' || r[0] == '−') && strings.ContainsAny(l.text, "µms") {
				if v, ok := tickValue(l.text); !ok || !is125(v) {
					t.Errorf("chart %d: label %q not a rounded tick", i, l.text)
				}
			}
		}
	}
	if !strings.Contains(errOut.String(), "report written to "+path) {
		t.Errorf("stderr: %s", errOut.String())
	}
}
