package bench

import (
	"math"
	"math/bits"
	"time"
)

// Histogram records non-negative int64 values (bench uses nanoseconds) in
// log-linear buckets, in the manner of HdrHistogram: values below 2^(histSubBits+1)
// are kept exactly, larger ones in buckets whose width is 1/2^histSubBits of
// their power of two, so a reported value is within 1/2^(histSubBits+1)
// (≈0.4%) of the true one. Memory is fixed (histBuckets counters); Record
// never allocates. Values above histMaxValue (~18 minutes in ns) are counted
// in the last bucket; Max is always exact.
//
// A Histogram is not safe for concurrent use: give each goroutine its own and
// Merge them.
type Histogram struct {
	counts [histBuckets]uint64
	total  uint64
	sum    float64
	min    int64
	max    int64
}

const (
	histSubBits  = 7
	histSub      = 1 << histSubBits // sub-buckets per power of two
	histMaxShift = 33               // values up to 2^(histSubBits+1+histMaxShift) ≈ 1.1e12
	histBuckets  = 2*histSub + histMaxShift*histSub
	// histMaxValue is the largest value with its own bucket.
	histMaxValue = int64(1)<<(histSubBits+1+histMaxShift) - 1
)

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram { return &Histogram{min: math.MaxInt64} }

func histIndex(v int64) int {
	if v < 2*histSub {
		return int(v)
	}
	if v > histMaxValue {
		v = histMaxValue
	}
	shift := bits.Len64(uint64(v)) - (histSubBits + 1)
	return 2*histSub + (shift-1)*histSub + int(v>>uint(shift)) - histSub
}

// histBounds returns the smallest and largest value stored in bucket i.
func histBounds(i int) (lo, hi int64) {
	if i < 2*histSub {
		return int64(i), int64(i)
	}
	j := i - 2*histSub
	shift := j/histSub + 1
	m := int64(j%histSub + histSub)
	lo = m << uint(shift)
	return lo, lo + int64(1)<<uint(shift) - 1
}

// Record adds one value; negative values count as 0.
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	if h.total == 0 && h.min == 0 && h.max == 0 {
		h.min = math.MaxInt64 // zero Histogram usable
	}
	h.counts[histIndex(v)]++
	h.total++
	h.sum += float64(v)
	if v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
}

// RecordDuration records d in nanoseconds.
func (h *Histogram) RecordDuration(d time.Duration) { h.Record(int64(d)) }

// Merge adds all of o's values to h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.total == 0 {
		return
	}
	if h.total == 0 {
		h.min, h.max = o.min, o.max
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Reset empties h.
func (h *Histogram) Reset() { *h = Histogram{min: math.MaxInt64} }

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total }

// Max is the exact largest value recorded (0 when empty).
func (h *Histogram) Max() int64 {
	if h.total == 0 {
		return 0
	}
	return h.max
}

// Min is the exact smallest value recorded (0 when empty).
func (h *Histogram) Min() int64 {
	if h.total == 0 {
		return 0
	}
	return h.min
}

// Mean is the exact arithmetic mean (0 when empty).
func (h *Histogram) Mean() float64 {
	if h.total == 0 {
		return 0
	}
	return h.sum / float64(h.total)
}

// Percentile returns the value at percentile p (0..100): the value below or
// at which p% of the recorded values fall, to the histogram's precision.
// Percentile(100) is Max. Empty histograms return 0.
func (h *Histogram) Percentile(p float64) int64 {
	if h.total == 0 {
		return 0
	}
	if p >= 100 {
		return h.max
	}
	if p <= 0 {
		return h.min
	}
	rank := uint64(math.Ceil(p / 100 * float64(h.total)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return h.bucketValue(i)
		}
	}
	return h.max
}

// bucketValue is the representative value of bucket i: its midpoint,
// clamped to the exact min and max.
func (h *Histogram) bucketValue(i int) int64 {
	lo, hi := histBounds(i)
	v := lo + (hi-lo)/2
	return min(max(v, h.min), h.max)
}

// Each calls fn for every non-empty bucket in increasing order with the
// bucket's representative value and its count.
func (h *Histogram) Each(fn func(value int64, count uint64)) {
	for i, c := range h.counts {
		if c != 0 {
			fn(h.bucketValue(i), c)
		}
	}
}
