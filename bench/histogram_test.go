package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// exactPercentile is the nearest-rank percentile of sorted values.
func exactPercentile(sorted []int64, p float64) int64 {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

// histPrecision is the relative precision promised by Histogram.
const histPrecision = 0.01

func checkPercentiles(t *testing.T, name string, vals []int64) {
	t.Helper()
	h := NewHistogram()
	for _, v := range vals {
		h.Record(v)
	}
	sorted := slices.Clone(vals)
	slices.Sort(sorted)
	if h.Count() != uint64(len(vals)) {
		t.Fatalf("%s: count %d, want %d", name, h.Count(), len(vals))
	}
	if h.Max() != sorted[len(sorted)-1] || h.Min() != sorted[0] {
		t.Errorf("%s: min/max %d/%d, want %d/%d", name, h.Min(), h.Max(), sorted[0], sorted[len(sorted)-1])
	}
	for _, p := range []float64{1, 10, 50, 90, 99, 99.9, 99.99, 100} {
		got, want := h.Percentile(p), exactPercentile(sorted, p)
		if rel := math.Abs(float64(got-want)) / math.Max(float64(want), 1); rel > histPrecision {
			t.Errorf("%s: p%g = %d, want %d (rel error %.4f > %.2f)", name, p, got, want, rel, histPrecision)
		}
	}
}

func TestHistogramUniform(t *testing.T) {
	const n = 200000
	vals := make([]int64, n)
	for i := range vals {
		vals[i] = int64(i + 1)
	}
	checkPercentiles(t, "uniform 1..N", vals)
	// Large values (ns of seconds) keep the same relative precision.
	for i := range vals {
		vals[i] = int64(i+1) * 12345
	}
	checkPercentiles(t, "uniform scaled", vals)
}

func TestHistogramConstant(t *testing.T) {
	vals := make([]int64, 1000)
	for i := range vals {
		vals[i] = 7_654_321
	}
	checkPercentiles(t, "constant", vals)
	h := NewHistogram()
	for _, v := range vals {
		h.Record(v)
	}
	// Clamping to the exact min/max makes a constant exact.
	if got := h.Percentile(50); got != 7_654_321 {
		t.Errorf("constant p50 = %d, want exact", got)
	}
	if got := h.Mean(); got != 7_654_321 {
		t.Errorf("mean = %g", got)
	}
}

func TestHistogramExponential(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := make([]int64, 100000)
	for i := range vals {
		vals[i] = int64(r.ExpFloat64()*2e6) + 1 // mean 2 ms in ns
	}
	checkPercentiles(t, "exponential", vals)
}

func TestHistogramMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	a, b, all := NewHistogram(), NewHistogram(), NewHistogram()
	for i := range 50000 {
		v := int64(r.ExpFloat64() * 1e7)
		all.Record(v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	var zero Histogram // a zero Histogram merges too
	zero.Merge(a)
	zero.Merge(b)
	for _, p := range []float64{0, 50, 90, 99, 99.9, 100} {
		if zero.Percentile(p) != all.Percentile(p) {
			t.Errorf("merged p%g = %d, want %d", p, zero.Percentile(p), all.Percentile(p))
		}
	}
	if zero.Count() != all.Count() || zero.Max() != all.Max() || zero.Min() != all.Min() {
		t.Errorf("merged count/min/max differ")
	}
	if math.Abs(zero.Mean()-all.Mean()) > 1e-6*all.Mean() {
		t.Errorf("merged mean %g, want %g", zero.Mean(), all.Mean())
	}
}

func TestHistogramEdges(t *testing.T) {
	h := NewHistogram()
	if h.Percentile(50) != 0 || h.Max() != 0 || h.Count() != 0 {
		t.Fatal("empty histogram must report zeros")
	}
	h.Record(-5)                // counts as 0
	h.Record(math.MaxInt64 / 2) // beyond the range: last bucket, max exact
	if h.Max() != math.MaxInt64/2 || h.Min() != 0 {
		t.Errorf("min/max = %d/%d", h.Min(), h.Max())
	}
	if h.Percentile(100) != math.MaxInt64/2 {
		t.Errorf("p100 must be the exact max")
	}
	// Buckets tile the range: bounds are contiguous and indices round-trip.
	for i := 1; i < histBuckets; i++ {
		lo, _ := histBounds(i)
		_, prevHi := histBounds(i - 1)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ends at %d", i, lo, prevHi)
		}
		if histIndex(lo) != i {
			t.Fatalf("histIndex(%d) = %d, want %d", lo, histIndex(lo), i)
		}
	}
}

func TestHistogramRecordDoesNotAllocate(t *testing.T) {
	h := NewHistogram()
	v := int64(1)
	if n := testing.AllocsPerRun(1000, func() { h.Record(v); v = v*3 + 1 }); n != 0 {
		t.Errorf("Record allocates %g times", n)
	}
}
