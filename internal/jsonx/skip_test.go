package jsonx

import "testing"

// skipStringForward is the reference: escapes read forward, a
// backslash taking the byte after it.
func skipStringForward(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '"':
			return i + 1, true
		case '\\':
			i++
		}
	}
	return 0, false
}

var skipStringSeeds = []string{
	`""`, `"a"`, `"\""`, `"\\"`, `"\\\""`, `"\\\\"`, `"a\\"b"`, `"a\"b"`, `"\`, `"\\`, `"\\\`, `"`,
	`"abc`, `"x\u0022y"`, `"\n\r\t"`, `"é \u00e9 ü"`, "\"\xff\x00\x1f\"", `"\"\"\\""`,
	`"prompt_tokens":12`, `"ends with backslash\`, `"\\\\\\\\\\\""`, `"ab\\\\\\\\\\\\"xyz"`,
}

// TestSkipStringMatchesForward: the quote-to-quote scan ends every
// literal (valid, cut short, hostile) where reading escapes forward
// does, from any start.
func TestSkipStringMatchesForward(t *testing.T) {
	for _, s := range skipStringSeeds {
		for _, pre := range []string{"", `{"k":`, `\\"`} {
			b := []byte(pre + s)
			i := len(pre)
			ge, gok := SkipString(b, i)
			we, wok := skipStringForward(b, i)
			if ge != we || gok != wok {
				t.Errorf("%q from %d: got %d %v, want %d %v", b, i, ge, gok, we, wok)
			}
		}
	}
}

func FuzzSkipString(f *testing.F) {
	for _, s := range skipStringSeeds {
		f.Add([]byte(s), 0)
	}
	f.Fuzz(func(t *testing.T, b []byte, i int) {
		if i < 0 || i >= len(b) {
			return
		}
		ge, gok := SkipString(b, i)
		we, wok := skipStringForward(b, i)
		if ge != we || gok != wok {
			t.Fatalf("%q from %d: got %d %v, want %d %v", b, i, ge, gok, we, wok)
		}
	})
}
