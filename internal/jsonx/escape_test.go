package jsonx

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestAppendStringValidUTF8(t *testing.T) {
	for _, s := range []string{"plain", "quote \" back \\ nl \n tab \t \x01", "é中😀", "cut \xc3", "\xff\xfe", "ls \u2028"} {
		for _, got := range [][]byte{AppendString(nil, s), AppendString(nil, []byte(s))} {
			if !utf8.Valid(got) {
				t.Errorf("%q: invalid UTF-8 %q", s, got)
			}
			var back string
			if err := json.Unmarshal(got, &back); err != nil {
				t.Errorf("%q: %s does not decode: %v", s, got, err)
			}
			if utf8.ValidString(s) && back != s {
				t.Errorf("%q: round trip gave %q", s, back)
			}
		}
	}
}

func BenchmarkAppendStringBytes(b *testing.B) {
	s := []byte(`upstream deployment d returned HTTP 400: "bad" é中😀 cut` + "\xc3")
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendString(dst[:0], s)
	}
}
