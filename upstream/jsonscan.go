package upstream

import "bytes"

// JSON skipping without decoding, shared by the request body scanner
// (package server) and the usage reader: walking to the few fields a
// proxy needs costs no allocation and no stack, whatever the nesting.

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
// b[i] == '"'.
func SkipString(b []byte, i int) (int, bool) {
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

// SkipValue returns the index just past the JSON value at b[i]. Nested
// containers are skipped by counting brackets outside strings, without
// recursion, so nesting depth costs no stack. Scalars (numbers, true,
// false, null) end at a delimiter; they are not validated.
func SkipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return SkipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				e, ok := SkipString(b, i)
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
