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

// matchSkip holds skip to ref on b from i: the same end, the same
// verdict.
func matchSkip(t testing.TB, skip, ref func([]byte, int) (int, bool), b []byte, i int) {
	t.Helper()
	ge, gok := skip(b, i)
	we, wok := ref(b, i)
	if ge != we || gok != wok {
		t.Fatalf("%q from %d: got %d %v, want %d %v", b, i, ge, gok, we, wok)
	}
}

// matchSkipSeeds runs matchSkip on every seed, alone and after text
// (a key, plain bytes, an escaped quote).
func matchSkipSeeds(t *testing.T, skip, ref func([]byte, int) (int, bool), seeds []string) {
	for _, s := range seeds {
		for _, pre := range []string{"", `{"k":`, "xxxxxxx", `\\"`} {
			matchSkip(t, skip, ref, []byte(pre+s), len(pre))
		}
	}
}

// TestSkipStringMatchesForward: the quote-to-quote scan ends every
// literal (valid, cut short, hostile) where reading escapes forward
// does, from any start.
func TestSkipStringMatchesForward(t *testing.T) {
	matchSkipSeeds(t, SkipString, skipStringForward, skipStringSeeds)
}

// skipStrictStringBytewise is SkipStrictString one byte at a time: the
// reference for its word skipping.
func skipStrictStringBytewise(b []byte, i int) (int, bool) {
	for i++; i < len(b); {
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c == '\\':
			e, ok := escapeEnd(b, i)
			if !ok {
				return 0, false
			}
			i = e
		case c < 0x20:
			return 0, false
		default:
			i++
		}
	}
	return 0, false
}

var strictSeeds = append([]string{
	`"0123456789abcdef"`, `"01234567\"9abcdef"`, "\"0123456\x01\"", "\"012345\x7f\x80\xff\"", `"\u00e9\u00E9xyzw"`,
	`"\uZZZZ"`, `"\x"`, `"12345678\`, `"1234567\\"`, `"` + "héllo wörld, 12345678" + `"`,
}, skipStringSeeds...)

// TestSkipStrictStringMatchesBytewise: entering a word at its first
// special byte ends and rejects every literal as the byte loop does.
func TestSkipStrictStringMatchesBytewise(t *testing.T) {
	matchSkipSeeds(t, SkipStrictString, skipStrictStringBytewise, strictSeeds)
}

// FuzzSkipStrings holds both string skips to their references.
func FuzzSkipStrings(f *testing.F) {
	for _, s := range strictSeeds {
		f.Add([]byte(s), 0)
	}
	f.Fuzz(func(t *testing.T, b []byte, i int) {
		if i >= 0 && i < len(b) {
			matchSkip(t, SkipString, skipStringForward, b, i)
			matchSkip(t, SkipStrictString, skipStrictStringBytewise, b, i)
		}
	})
}
