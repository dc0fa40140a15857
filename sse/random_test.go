package sse

import (
	"bytes"
	"io"
	"math/rand"
	"reflect"
	"testing"
)

// TestScannerRandom checks random streams over the SSE alphabet against the
// reference parser with random read splits; a cheap always-on complement to
// FuzzScanner.
func TestScannerRandom(t *testing.T) {
	alphabet := []string{"data", "event", "id", "retry", ":", " ", "\r", "\n", "\r\n", "x", "7", "\x00", "\xEF\xBB\xBF", "\xEF"}
	rng := rand.New(rand.NewSource(1))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for range n {
		var in []byte
		for range rng.Intn(40) {
			in = append(in, alphabet[rng.Intn(len(alphabet))]...)
		}
		want, partial := refParse(in)
		got := scanAll(&splitReader{data: in, rng: rng}, 0)
		var raw []byte
		for i := range got.events {
			raw = append(raw, got.events[i].Raw...)
			got.events[i].Raw = ""
		}
		if !reflect.DeepEqual(got.events, want) {
			t.Fatalf("%q:\n got %v\nwant %v", in, got.events, want)
		}
		if partial != (got.err == io.ErrUnexpectedEOF) || (!partial && got.err != io.EOF) {
			t.Fatalf("%q: err %v partial %v", in, got.err, partial)
		}
		raw = append(raw, got.partial...)
		if !bytes.HasPrefix(in, raw) {
			t.Fatalf("%q: raw %q", in, raw)
		}
	}
}
