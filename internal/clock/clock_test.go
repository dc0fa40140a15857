package clock

import (
	"strings"
	"testing"
	"time"
)

// TestNow: a reading from any reference with a monotonic reading (a
// start, a later deadline) lies between two time.Now readings around
// it, on both clocks, and keeps a monotonic reading.
func TestNow(t *testing.T) {
	base := time.Now()
	for _, ref := range []time.Time{base, base.Add(-time.Hour), base.Add(90 * time.Second)} {
		before := time.Now()
		got := Now(ref)
		after := time.Now()
		if got.Before(before) || got.After(after) {
			t.Errorf("ref %v: monotonic %v not within [%v, %v]", ref, got, before, after)
		}
		if w := got.Round(0); w.Before(before.Round(0)) || w.After(after.Round(0)) {
			t.Errorf("ref %v: wall %v not within [%v, %v]", ref, w, before, after)
		}
		if !strings.Contains(got.String(), " m=") {
			t.Errorf("ref %v: %v has no monotonic reading", ref, got)
		}
	}
}

// TestNowFallbacks: a zero reference reads both clocks; one without a
// monotonic reading gives the wall time.
func TestNowFallbacks(t *testing.T) {
	before := time.Now()
	if got := Now(time.Time{}); got.Before(before) || !strings.Contains(got.String(), " m=") {
		t.Errorf("zero ref: %v", got)
	}
	wall := time.Unix(1, 0)
	got := Now(wall)
	if d := time.Since(got); d < 0 || d > time.Minute {
		t.Errorf("wall-only ref: %v is not now", got)
	}
}

func BenchmarkNow(b *testing.B) {
	ref := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		ref = Now(ref)
	}
}

func BenchmarkTimeNow(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = time.Now()
	}
}

func BenchmarkSince(b *testing.B) {
	ref := time.Now()
	var d time.Duration
	for b.Loop() {
		d += time.Since(ref)
	}
	_ = d
}
