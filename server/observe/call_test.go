package observe

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream"
)

func TestAppendMillis(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0.000", 999 * time.Nanosecond: "0.000", 1500 * time.Microsecond: "1.500",
		12*time.Second + 3*time.Microsecond: "12000.003", -time.Second: "0.000", 7 * time.Microsecond: "0.007"} {
		if got := string(appendMillis(nil, d)); got != want {
			t.Errorf("appendMillis(%v) = %q, want %q", d, got, want)
		}
	}
}

// testSeries is a Recorder and the series of a registry with one mock
// deployment of gpt-4o, priced.
func testSeries(tb testing.TB) (*Recorder, *Series, *upstream.Group) {
	tb.Helper()
	d := &config.Deployment{ModelName: "gpt-4o", ID: "gpt-4o-0", Model: "mock/gpt-4o", Provider: "mock", UpstreamModel: "gpt-4o",
		ModelInfo: map[string]any{"input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05}}
	reg, err := upstream.NewRegistry(&config.Config{Deployments: []*config.Deployment{d}}, upstream.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	var series *Series
	r := New(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Started: time.Now(),
		InFlight: func() int64 { return 0 }, BodyBytes: func() int64 { return 0 }, Current: func() *Series { return series }})
	series = r.Series(reg)
	return r, series, reg.Groups()[0]
}

// Recording a finished request allocates nothing once its series exist
// (the README's per-request metrics claim).
func TestMetricsRecordAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	_, series, g := testSeries(t)
	dep := g.Deployments[0]
	record := func() {
		dm := series.forCall(g, dep)
		dm.observe(200, false, 120*time.Millisecond, 80*time.Millisecond, 150*time.Microsecond)
		dm.usage("master", 12, 10, 0)
	}
	record() // creates the series
	if allocs := testing.AllocsPerRun(100, record); allocs != 0 {
		t.Errorf("%v allocs per recorded request, want 0", allocs)
	}
}

// BenchmarkMetricsRecord is the metrics work of one finished request
// alone: series lookup, counters, three histograms, usage.
func BenchmarkMetricsRecord(b *testing.B) {
	_, series, g := testSeries(b)
	dep := g.Deployments[0]
	b.ReportAllocs()
	for b.Loop() {
		dm := series.forCall(g, dep)
		dm.observe(200, false, 120*time.Millisecond, 80*time.Millisecond, 150*time.Microsecond)
		dm.usage("master", 12, 10, 0)
	}
}

// BenchmarkAccessLogLine: one access line through slog's handlers
// (the fallback, Options.AccessLogOut nil) and formatted in place (the
// sink llmedge serve uses), each into io.Discard.
func BenchmarkAccessLogLine(b *testing.B) {
	e := accessEntry{reqID: []byte("llmedge-0a1b2c3d-1f"), model: "gpt-4o", deployment: "gpt-4o-0", key: "master",
		status: 200, attempts: 1, ttfb: 80 * time.Millisecond, duration: 120 * time.Millisecond, overhead: 150 * time.Microsecond,
		upstream: 119 * time.Millisecond, prompt: 12, completion: 10}
	for _, bc := range []struct {
		name string
		opts Options
	}{
		{"slog-text", Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}},
		{"slog-json", Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}},
		{"sink-text", Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), AccessLogOut: io.Discard}},
		{"sink-json", Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), AccessLogOut: io.Discard, AccessLogJSON: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := &Recorder{opts: bc.opts}
			b.ReportAllocs()
			for b.Loop() {
				r.logAccess(time.Now(), &e)
			}
		})
	}
}
