package observe

import (
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// The in-place access-log line: the bytes slog's TextHandler (or
// JSONHandler) would print for accessRecord, built in a pooled buffer
// and written in one Write. Through slog a line cost ~5µs and 2-3
// allocations per request (string copies, the record's attribute
// slice, handler state); this costs a fraction of that and none.
//
// It reproduces log/slog's formatting (Go 1.26, handler.go,
// text_handler.go, json_handler.go) for handlers built without
// ReplaceAttr, AddSource, WithAttrs or WithGroup, as llmedge serve
// builds them; TestAccessLineMatchesSlog holds it to that byte for byte.

var accessBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooledAccessBuf: a line grown past this (a long error message) is
// not kept for the next one.
const maxPooledAccessBuf = 4 << 10

func writeAccessLine(w io.Writer, json bool, t time.Time, e *accessEntry) {
	bp := accessBufs.Get().(*[]byte)
	b := appendAccessLine((*bp)[:0], json, t, e)
	_, _ = w.Write(b)
	if cap(b) <= maxPooledAccessBuf {
		*bp = b
		accessBufs.Put(bp)
	}
}

// appendAccessLine appends e's line, newline included, to b. The ids
// are viewed, not copied: the attributes do not outlive this call.
func appendAccessLine(b []byte, json bool, t time.Time, e *accessEntry) []byte {
	var arr [maxAccessAttrs]slog.Attr
	attrs := accessAttrs(arr[:0], e, bytesView(e.reqID), bytesView(e.userID))
	if json {
		b = append(b, `{"time":"`...)
		b = t.AppendFormat(b, time.RFC3339Nano) // slog's JSON time: full precision
		b = append(b, `","level":"INFO","msg":"request"`...)
		for _, a := range attrs {
			// Keys are constants needing no escape.
			b = append(b, ',', '"')
			b = append(b, a.Key...)
			b = append(b, '"', ':')
			switch v := a.Value; v.Kind() {
			case slog.KindInt64:
				b = strconv.AppendInt(b, v.Int64(), 10)
			case slog.KindBool:
				b = strconv.AppendBool(b, v.Bool())
			case slog.KindFloat64:
				b = strconv.AppendFloat(b, v.Float64(), 'g', -1, 64)
			default: // accessAttrs makes only strings otherwise
				b = append(b, '"')
				b = appendJSONEscaped(b, v.String())
				b = append(b, '"')
			}
		}
		return append(b, '}', '\n')
	}
	b = append(b, "time="...)
	b = appendRFC3339Millis(b, t)
	b = append(b, " level=INFO msg=request"...)
	for _, a := range attrs {
		b = append(b, ' ')
		b = append(b, a.Key...)
		b = append(b, '=')
		switch v := a.Value; v.Kind() {
		case slog.KindInt64:
			b = strconv.AppendInt(b, v.Int64(), 10)
		case slog.KindBool:
			b = strconv.AppendBool(b, v.Bool())
		case slog.KindFloat64:
			b = strconv.AppendFloat(b, v.Float64(), 'g', -1, 64)
		default:
			if s := v.String(); textNeedsQuoting(s) {
				b = strconv.AppendQuote(b, s)
			} else {
				b = append(b, s...)
			}
		}
	}
	return append(b, '\n')
}

// appendRFC3339Millis is slog's text time, "2006-01-02T15:04:05.000Z07:00"
// (truncated), made as slog makes it: time.RFC3339Nano has a fast path
// in AppendFormat that a custom layout lacks. Adding 1/10 ms after
// truncating leaves exactly four fraction digits; the fourth is dropped.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...)
}

// jsonSafe reports whether ASCII byte c goes into a JSON string as is
// (encoding/json's and slog's safeSet).
func jsonSafe(c byte) bool { return c >= 0x20 && c != '"' && c != '\\' }

// textNeedsQuoting is slog's TextHandler rule: empty, or holding a
// space, '=', a byte JSON would escape (backslash aside), invalid
// UTF-8, or a non-printing or space rune.
func textNeedsQuoting(s string) bool {
	if len(s) == 0 {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c != '\\' && (c == ' ' || c == '=' || !jsonSafe(c)) {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}

// appendJSONEscaped is slog's JSON string escaping (no HTML escaping):
// \" \\ \n \r \t, other controls as \u00XX, invalid UTF-8 as \ufffd,
// U+2028 and U+2029 escaped.
func appendJSONEscaped(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafe(c) {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}
