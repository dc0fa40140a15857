package observe

import (
	"io"
	"testing"
	"time"
)

// BenchmarkAccessLine is one access line, formatted in place and
// written (text and JSON), for a typical answered call.
func BenchmarkAccessLine(b *testing.B) {
	e := accessTestEntries()[0]
	at := time.Now()
	for _, json := range []bool{false, true} {
		name := "text"
		if json {
			name = "json"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				writeAccessLine(io.Discard, json, at, &e)
			}
		})
	}
}
