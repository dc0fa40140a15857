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

// skipStrictStringBytewise is SkipStrictString one byte at a time: the
// reference for its word skipping.
func skipStrictStringBytewise(b []byte, i int) (int, bool) {
	for i++; i < len(b); {
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c == '\\':
			if i+1 >= len(b) {
				return 0, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return 0, false
				}
				i += 6
			default:
				return 0, false
			}
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
	for _, s := range strictSeeds {
		for _, pre := range []string{"", `{"k":`, "xxxxxxx"} {
			b := []byte(pre + s)
			i := len(pre)
			ge, gok := SkipStrictString(b, i)
			we, wok := skipStrictStringBytewise(b, i)
			if ge != we || gok != wok {
				t.Errorf("%q from %d: got %d %v, want %d %v", b, i, ge, gok, we, wok)
			}
		}
	}
}

func FuzzSkipStrictString(f *testing.F) {
	for _, s := range strictSeeds {
		f.Add([]byte(s), 0)
	}
	f.Fuzz(func(t *testing.T, b []byte, i int) {
		if i < 0 || i >= len(b) {
			return
		}
		ge, gok := SkipStrictString(b, i)
		we, wok := skipStrictStringBytewise(b, i)
		if ge != we || gok != wok {
			t.Fatalf("%q from %d: got %d %v, want %d %v", b, i, ge, gok, we, wok)
		}
	})
}
