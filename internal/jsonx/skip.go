package jsonx

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// SkipSpace returns the index of the first non-whitespace byte at or
// after i.
func SkipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// SkipString returns the index just past the string literal starting at
// b[i] == '"'. It jumps from quote to quote with the vectorised
// bytes.IndexByte; a quote ends the string when the run of backslashes
// before it (within the string) is even: each pair is an escaped
// backslash, an odd one out escapes the quote. That is what reading
// escapes forward finds (skipStringForward in the tests holds it to
// that), at a fraction of bytes.IndexAny's cost on short and long
// strings alike (BenchmarkSkipString).
func SkipString(b []byte, i int) (int, bool) {
	s := i + 1
	for i = s; i < len(b); i++ {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return 0, false
		}
		i += j
		k := i
		for k > s && b[k-1] == '\\' {
			k--
		}
		if (i-k)&1 == 0 {
			return i + 1, true
		}
	}
	return 0, false
}

// SkipValue returns the index just past the JSON value at b[i]. Nested
// containers are skipped by counting brackets outside strings, without
// recursion, so nesting depth costs no stack. Scalars (numbers, true,
// false, null) end at a delimiter; they are not validated.
func SkipValue(b []byte, i int) (int, bool) { return skipValue(b, i, false) }

// SkipStrictValue is SkipValue checking the escapes of every string
// (SkipStrictString) instead of only finding its end.
func SkipStrictValue(b []byte, i int) (int, bool) { return skipValue(b, i, true) }

func skipValue(b []byte, i int, strict bool) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	skipString := SkipString
	if strict {
		skipString = SkipStrictString
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				e, ok := skipString(b, i)
				if !ok {
					return 0, false
				}
				i = e
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return 0, false
	}
	s := i
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\n', '\r', '\t':
			return i, i > s
		}
		i++
	}
	return i, i > s
}

// SkipStrictString returns the index just past the string literal starting at
// b[i] == '"', checking escapes and rejecting raw control characters
// (UTF-8 validity is checked once for the whole body). Runs of plain
// bytes are skipped eight at a time, and a word holding a special byte
// is entered at the first one.
func SkipStrictString(b []byte, i int) (int, bool) {
	i++
	for {
		for i+8 <= len(b) {
			if m := specialBytes(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				// To the first byte that may need a look: none
				// before it does.
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(b) {
			return 0, false
		}
		c := b[i]
		switch {
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
}

// escapeEnd returns the index just past the escape at b[i] == '\\',
// false when it is not one JSON allows.
func escapeEnd(b []byte, i int) (int, bool) {
	if i+1 >= len(b) {
		return 0, false
	}
	switch b[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 2, true
	case 'u':
		if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
			return 0, false
		}
		return i + 6, true
	}
	return 0, false
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// specialBytes has the high bit set in the bytes of x (little endian:
// byte 0 is the lowest) that are a quote, a backslash or a control
// character, SWAR: a borrow sets the high bit of a byte below the
// threshold. A byte above a flagged one may be flagged falsely (the
// borrow runs on), never one below, so the lowest flag is exact and 0
// means the 8 bytes are plain.
func specialBytes(x uint64) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	q := x ^ (lo * '"')
	bs := x ^ (lo * '\\')
	return ((x-lo*0x20)&^x | (q-lo)&^q | (bs-lo)&^bs) & hi
}
