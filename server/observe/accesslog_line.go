package observe

import (
	"io"
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
// slice, handler state); this costs a fraction of that and none: each
// field is appended straight from the entry (no slog.Attr list), and
// the time's date and time of day are formatted once a second.
//
// It reproduces log/slog's formatting (Go 1.26, handler.go,
// text_handler.go, json_handler.go) for handlers built without
// ReplaceAttr, AddSource, WithAttrs or WithGroup, as llmedge serve
// builds them; TestAccessLineMatchesSlog holds it to that byte for byte.

// accessBuf is a pooled line buffer and the last second it formatted:
// lines come many per second, so the date and time of day (and the
// zone) are formatted once a second per buffer, not once a line.
type accessBuf struct {
	b  []byte
	at lineSecond
}

var accessBufs = sync.Pool{New: func() any { return &accessBuf{b: make([]byte, 0, 512)} }}

// maxPooledAccessBuf: a line grown past this (a long error message) is
// not kept for the next one.
const maxPooledAccessBuf = 4 << 10

func writeAccessLine(w io.Writer, json bool, t time.Time, e *accessEntry) {
	ab := accessBufs.Get().(*accessBuf)
	b := ab.at.appendLine(ab.b[:0], json, t, e)
	_, _ = w.Write(b)
	if cap(b) <= maxPooledAccessBuf {
		ab.b = b
		accessBufs.Put(ab)
	}
}

// appendAccessLine appends e's line, newline included, to b.
func appendAccessLine(b []byte, json bool, t time.Time, e *accessEntry) []byte {
	var at lineSecond
	return at.appendLine(b, json, t, e)
}

// appendLine appends e's line: accessAttrs' fields, in its order, each
// appended as its handler prints it (no slog.Attr is built: the ids
// and strings are appended from where they are).
func (at *lineSecond) appendLine(b []byte, json bool, t time.Time, e *accessEntry) []byte {
	l := accessLine{b: b, json: json}
	if json {
		l.b = append(l.b, `{"time":"`...)
		l.b = at.appendTime(l.b, t, true)
		l.b = append(l.b, `","level":"INFO","msg":"request"`...)
	} else {
		l.b = append(l.b, "time="...)
		l.b = at.appendTime(l.b, t, false)
		l.b = append(l.b, " level=INFO msg=request"...)
	}
	l.str("request_id", bytesView(e.reqID))
	l.str("model_name", e.model)
	l.str("deployment", e.deployment)
	if len(e.userID) > 0 {
		l.str("user_id", bytesView(e.userID))
	}
	if e.key != "" {
		l.str("key", e.key)
	}
	l.int("status", int64(e.status))
	l.key("stream")
	l.b = strconv.AppendBool(l.b, e.stream)
	l.int("attempts", int64(e.attempts))
	l.int("ttfb_us", e.ttfb.Microseconds())
	l.int("duration_us", e.duration.Microseconds())
	l.int("overhead_us", e.overhead.Microseconds())
	l.int("upstream_us", e.upstream.Microseconds())
	l.int("prompt_tokens", e.prompt)
	l.int("completion_tokens", e.completion)
	if e.backoff > 0 {
		l.int("backoff_us", e.backoff.Microseconds())
	}
	if e.cost > 0 {
		l.key("cost_usd")
		l.b = strconv.AppendFloat(l.b, e.cost, 'g', -1, 64)
	}
	if e.cache != "" {
		l.str("cache", e.cache)
	}
	if e.reason != "" {
		l.str("rejected", e.reason)
	}
	if e.err != nil {
		l.str("error", e.err.Error())
	}
	if json {
		return append(l.b, '}', '\n')
	}
	return append(l.b, '\n')
}

// accessLine appends a line's fields in the handler's form: text
// ` key=value` (a string quoted when slog would quote it) or JSON
// `,"key":value`. Keys are constants needing no escape.
type accessLine struct {
	b    []byte
	json bool
}

func (l *accessLine) key(k string) {
	if l.json {
		l.b = append(l.b, ',', '"')
		l.b = append(l.b, k...)
		l.b = append(l.b, '"', ':')
		return
	}
	l.b = append(l.b, ' ')
	l.b = append(l.b, k...)
	l.b = append(l.b, '=')
}

func (l *accessLine) int(k string, v int64) {
	l.key(k)
	l.b = strconv.AppendInt(l.b, v, 10)
}

func (l *accessLine) str(k, v string) {
	l.key(k)
	switch {
	case l.json:
		l.b = append(l.b, '"')
		l.b = appendJSONEscaped(l.b, v)
		l.b = append(l.b, '"')
	case textNeedsQuoting(v):
		l.b = strconv.AppendQuote(l.b, v)
	default:
		l.b = append(l.b, v...)
	}
}

// lineSecond is the formatted date, time of day and zone of one second
// in one location: "2006-01-02T15:04:05" and "Z07:00".
type lineSecond struct {
	sec  int64
	loc  *time.Location
	dt   [19]byte
	zone [6]byte
	zlen uint8
}

// appendTime appends t as slog prints it: text, RFC 3339 with
// milliseconds ("2006-01-02T15:04:05.000Z07:00", truncated); JSON,
// time.RFC3339Nano (trailing zeros of the fraction dropped, none
// when it is 0). A zone offset changes on a second's boundary, so the
// second and location say when the cached part is stale. Years
// outside 0-9999 take time's own formatting.
func (at *lineSecond) appendTime(b []byte, t time.Time, json bool) []byte {
	t = t.Round(0) // the wall reading alone, as slog prints it
	if y := t.Year(); y < 0 || y > 9999 {
		if json {
			return t.AppendFormat(b, time.RFC3339Nano)
		}
		return appendRFC3339Millis(b, t)
	}
	if sec := t.Unix(); sec != at.sec || t.Location() != at.loc || at.zlen == 0 {
		at.fill(t, sec)
	}
	b = append(b, at.dt[:]...)
	ns := t.Nanosecond()
	if !json {
		ms := ns / 1e6
		b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	} else if ns != 0 {
		var f [10]byte
		f[0] = '.'
		for i := 9; i > 0; i-- {
			f[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for f[n-1] == '0' {
			n--
		}
		b = append(b, f[:n]...)
	}
	return append(b, at.zone[:at.zlen]...)
}

// fill formats t's second (noinline: once a second, kept out of the
// line's frame, which is on a stream's connection stack).
//
//go:noinline
func (at *lineSecond) fill(t time.Time, sec int64) {
	at.sec, at.loc = sec, t.Location()
	t.AppendFormat(at.dt[:0], "2006-01-02T15:04:05")
	at.zlen = uint8(len(t.AppendFormat(at.zone[:0], "Z07:00")))
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
// UTF-8, or a non-printing or space rune. ASCII bytes are looked up in
// textPlainASCII (one load a byte, not the rule's four comparisons).
func textNeedsQuoting(s string) bool {
	if len(s) == 0 {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if !textPlainASCII[c] {
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

// textPlainASCII[c]: slog's TextHandler prints ASCII byte c unquoted.
var textPlainASCII = func() (t [utf8.RuneSelf]bool) {
	for c := range byte(utf8.RuneSelf) {
		t[c] = c == '\\' || c != ' ' && c != '=' && jsonSafe(c)
	}
	return t
}()

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
