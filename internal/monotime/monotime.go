// Package monotime reads the current time from the monotonic clock
// alone, for the per-event deadlines and waits of the relay.
//
// time.Now reads two clocks (two vDSO calls on Linux: the wall clock
// and the monotonic one). A time that only feeds deadlines and
// durations needs the monotonic one: Since.Now is the first reading
// plus the monotonic time elapsed since it, one vDSO call. Deadlines set
// from it are met as with time.Now (the poller counts them down on the
// monotonic clock); only its wall clock reading may drift from the
// system's if that is stepped.
//
// It must not be used for times shown to people or compared across
// processes (log lines, headers): those want time.Now.
package monotime

import "time"

// Since gives monotonic readings from its first one on. The zero value
// is ready; set a new one (a struct literal) per call.
type Since struct{ base time.Time }

// Now is the current time: the first call's time.Now, then that plus
// the monotonic time since.
func (s *Since) Now() time.Time {
	if s.base.IsZero() {
		s.base = time.Now()
		return s.base
	}
	return s.base.Add(time.Since(s.base))
}
