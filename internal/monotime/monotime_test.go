package monotime

import (
	"testing"
	"time"
)

// Readings advance with the monotonic clock, carry a monotonic reading
// (so deadlines and Since/Sub use it) and stay within the wall clock's
// elapsed time of time.Now's.
func TestSinceNow(t *testing.T) {
	var s Since
	first := s.Now()
	before := time.Now()
	got := s.Now()
	after := time.Now()
	if got.Before(first) {
		t.Fatalf("went back: %v then %v", first, got)
	}
	if got.Sub(before) < -time.Millisecond || after.Sub(got) < -time.Millisecond {
		t.Fatalf("reading %v outside [%v, %v]", got, before, after)
	}
	if got.Round(0) == got {
		t.Fatal("no monotonic reading")
	}
}
