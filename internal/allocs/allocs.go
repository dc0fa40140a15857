// Package allocs is the tests' allocation check: it holds the hot path
// to the allocation counts the README and docs/ state, with
// testing.AllocsPerRun. Only tests import it; it must not be used on a
// request path.
//
// Under -race the checks skip: the race detector allocates and
// sync.Pool drops items at random. .ci/run runs them without -race
// (go test -run Alloc ./...), so every test using it has "Alloc" in its
// name.
package allocs

import "testing"

// AtMost fails tb when f allocates more than n times per call on
// average over runs calls (after one warm-up call).
func AtMost(tb testing.TB, n float64, what string, runs int, f func()) {
	tb.Helper()
	if raceEnabled {
		tb.Skip("allocation counts are not meaningful under -race")
	}
	if got := testing.AllocsPerRun(runs, f); got > n {
		tb.Fatalf("%s allocates %v times per call, want at most %v", what, got, n)
	}
}

// None fails tb when f allocates at all (on average over runs calls).
func None(tb testing.TB, what string, runs int, f func()) {
	tb.Helper()
	AtMost(tb, 0, what, runs, f)
}
