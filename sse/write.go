package sse

import "unicode/utf8"

// Done is the OpenAI end-of-stream event.
var Done = []byte("data: [DONE]\n\n")

// AppendData appends a data-only event: "data: " + data + "\n\n". Each line
// of data gets its own "data: " line, so a Scanner returns data unchanged.
// SSE cannot carry a bare '\r' inside data: "\r\n" and "\r" are line breaks
// like "\n" and come back from a Scanner as '\n'.
func AppendData(dst, data []byte) []byte {
	dst = appendLines(dst, "data: ", data)
	return append(dst, '\n')
}

// AppendEvent appends "event: name\n" followed by the data lines and the
// terminating blank line. An empty name omits the event line (the client
// then sees the default "message" type). name is cut at its first line break,
// which could not be represented.
func AppendEvent(dst, name, data []byte) []byte {
	if len(name) > 0 {
		if i := indexLineEnd(name); i >= 0 {
			name = name[:i]
		}
		dst = append(dst, "event: "...)
		dst = append(dst, name...)
		dst = append(dst, '\n')
	}
	return AppendData(dst, data)
}

// AppendComment appends a comment block ": text\n\n" (one ": " line per line
// of text), e.g. a keep-alive that clients ignore.
func AppendComment(dst, text []byte) []byte {
	dst = appendLines(dst, ": ", text)
	return append(dst, '\n')
}

// AppendError appends an OpenAI-style error event:
//
//	data: {"error":{"message":...,"type":...,"param":null,"code":...}}\n\n
//
// message, typ and code are JSON-escaped (invalid UTF-8 becomes U+FFFD); an
// empty code is written as null.
func AppendError(dst []byte, message, typ, code string) []byte {
	dst = append(dst, `data: {"error":{"message":`...)
	dst = appendJSONString(dst, message)
	dst = append(dst, `,"type":`...)
	dst = appendJSONString(dst, typ)
	dst = append(dst, `,"param":null,"code":`...)
	if code == "" {
		dst = append(dst, "null"...)
	} else {
		dst = appendJSONString(dst, code)
	}
	return append(dst, "}}\n\n"...)
}

// appendLines writes prefix+line+"\n" for every line of b (split at "\r\n",
// "\r" or "\n"); an empty b is one empty line.
func appendLines(dst []byte, prefix string, b []byte) []byte {
	for {
		dst = append(dst, prefix...)
		i := indexLineEnd(b)
		if i < 0 {
			dst = append(dst, b...)
			return append(dst, '\n')
		}
		dst = append(dst, b[:i]...)
		dst = append(dst, '\n')
		if b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n' {
			i++
		}
		b = b[i+1:]
	}
}

const hexDigits = "0123456789abcdef"

func appendJSONString(dst []byte, s string) []byte { return AppendJSONString(dst, s) }

// AppendJSONString appends s as a JSON string literal. It escapes '"', '\\'
// and control characters, replaces invalid UTF-8 with U+FFFD (as
// encoding/json does) and escapes U+2028/U+2029 so the output is also safe
// inside JavaScript. It allocates nothing beyond growing dst.
func AppendJSONString[S ~string | ~[]byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		// At most 4 bytes: for a []byte the conversion is a stack copy.
		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
