// Package clock reads the current time from the monotonic clock alone,
// for the request path's phase boundaries. time.Now reads two clocks
// (wall and monotonic: two vDSO calls); a reading taken as an offset
// from an earlier time.Now costs one. Its monotonic reading is exact,
// so durations, deadlines and comparisons with other readings are what
// time.Now would give; its wall reading is the earlier one's plus the
// elapsed time, so a wall clock step in between is not seen (a request
// lasts seconds at most; its start is read with time.Now).
//
// It imports only the standard library and allocates nothing.
package clock

import "time"

// Now is the current time, read as ref plus the monotonic time elapsed
// since ref (one clock read). ref must be a time.Now reading or derived
// from one by Add (a deadline works as well as a start); a zero ref
// gives time.Now, and a ref without a monotonic reading gives the
// current wall time with none.
func Now(ref time.Time) time.Time {
	if ref.IsZero() {
		return time.Now()
	}
	return ref.Add(time.Since(ref))
}
