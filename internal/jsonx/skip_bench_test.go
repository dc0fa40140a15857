package jsonx

import (
	"bytes"
	"strings"
	"testing"
)

// skipStringIndexAny is SkipString as it was: escapes read forward,
// the next quote or backslash found by bytes.IndexAny.
func skipStringIndexAny(b []byte, i int) (int, bool) {
	i++
	for i < len(b) {
		j := bytes.IndexAny(b[i:], "\"\\")
		if j < 0 {
			return 0, false
		}
		i += j
		if b[i] == '"' {
			return i + 1, true
		}
		i += 2 // backslash and the escaped byte
	}
	return 0, false
}

var skipCases = []struct{ name, s string }{
	{"key", `"prompt_tokens":12`},
	{"id", `"chatcmpl-AbC123xyz0987654321qwerty"`},
	{"content", `"` + strings.Repeat("The weather in Paris today is mild, 18 degrees. ", 8) + `"`},
	{"escapes", `"` + strings.Repeat(`line one\nshe said \"hi\" \\ path\u00e9 `, 8) + `"`},
}

// BenchmarkSkipString: SkipString against the IndexAny scan it
// replaced, on a usage key, an id, long plain content and content with
// escapes. (A SWAR word loop and a plain byte loop measured between
// the two on short strings and far behind IndexByte on long ones.)
func BenchmarkSkipString(b *testing.B) {
	for _, c := range skipCases {
		in := []byte(c.s)
		b.Run(c.name+"/IndexByte", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				SkipString(in, 0)
			}
		})
		b.Run(c.name+"/IndexAny", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				skipStringIndexAny(in, 0)
			}
		})
	}
}

// BenchmarkSkipStrictString: the request scan's string skip on the
// same strings (the escapes case checks each escape).
func BenchmarkSkipStrictString(b *testing.B) {
	for _, c := range skipCases {
		in := []byte(c.s)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				SkipStrictString(in, 0)
			}
		})
	}
}
