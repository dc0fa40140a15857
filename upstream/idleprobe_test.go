package upstream

import "testing"

// BenchmarkIdleProbeTracking is what idle probing adds to a request: its
// connection goes on the idle list when released and off it when
// acquired again.
func BenchmarkIdleProbeTracking(b *testing.B) {
	b.ReportAllocs()
	t := &trackedConn{}
	for b.Loop() {
		t.idle()
		t.busy()
	}
}
