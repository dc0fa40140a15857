// Package wait is the tests' condition wait: poll a condition until it
// holds or a deadline passes, instead of sleeping for a guessed time.
// Only tests import it; it must not be used on a request path.
package wait

import (
	"testing"
	"time"
)

// For polls cond every 5ms until it holds, failing tb after d.
func For(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
