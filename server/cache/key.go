package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/llmedge/llmedge/internal/jsonx"
)

// Key is a cache key: SHA-256 of the canonical request.
type Key [sha256.Size]byte

// Hex returns k as 64 hex digits (x-litellm-cache-key).
func (k *Key) Hex(dst []byte) []byte {
	return hex.AppendEncode(dst, k[:])
}

// excluded are the top-level request members that do not change the
// answer: how it is delivered (stream, stream_options), who asked (user,
// metadata, litellm_metadata) and the cache controls themselves.
func excluded(k []byte) bool {
	switch string(k) {
	case "stream", "stream_options", "user", "metadata", "litellm_metadata", "cache":
		return true
	}
	return false
}

// maxDepth bounds the nesting the canonicaliser follows; a deeper body
// is not cached (its key cannot be made), never refused.
const maxDepth = 64

// span is one object member: key and value offsets in the body.
type span struct{ ks, ke, vs, ve int32 }

// Keyer makes keys; it holds the scratch buffers, so it is pooled and
// one request's key costs no allocation once warm.
type Keyer struct {
	buf   []byte
	spans []span
	body  []byte
}

var keyerPool = sync.Pool{New: func() any { return &Keyer{buf: make([]byte, 0, 4096), spans: make([]span, 0, 64)} }}

// MakeKey returns the key of body for the given scope. scope is what
// the answer is shared across, written before the body: route, model
// group, namespace and (when the settings scope by it) the API key or
// memory user. ok is false when body is not canonicalisable JSON (too
// deep, malformed): such a request is not cached.
func MakeKey(body []byte, scope ...[]byte) (k Key, ok bool) {
	kr := keyerPool.Get().(*Keyer)
	k, ok = kr.Key(body, scope...)
	if cap(kr.buf) > 1<<20 {
		kr.buf = make([]byte, 0, 4096)
	}
	keyerPool.Put(kr)
	return k, ok
}

// Key is MakeKey with kr's buffers.
func (kr *Keyer) Key(body []byte, scope ...[]byte) (Key, bool) {
	b := kr.buf[:0]
	for _, s := range scope {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
	}
	kr.body = body
	i := jsonx.SkipSpace(body, 0)
	b, e, ok := kr.value(b, i, 0)
	kr.body = nil
	kr.buf = b
	if !ok || jsonx.SkipSpace(body, e) != len(body) {
		return Key{}, false
	}
	return sha256.Sum256(b), true
}

// value appends the canonical form of the value at body[i] and returns
// the index past it.
func (kr *Keyer) value(b []byte, i, depth int) ([]byte, int, bool) {
	body := kr.body
	if i >= len(body) || depth > maxDepth {
		return b, 0, false
	}
	switch c := body[i]; c {
	case '{':
		return kr.object(b, i, depth)
	case '[':
		b = append(b, '[')
		i = jsonx.SkipSpace(body, i+1)
		if i < len(body) && body[i] == ']' {
			return append(b, ']'), i + 1, true
		}
		for {
			var ok bool
			b, i, ok = kr.value(b, i, depth+1)
			if !ok {
				return b, 0, false
			}
			i = jsonx.SkipSpace(body, i)
			if i >= len(body) {
				return b, 0, false
			}
			if body[i] == ']' {
				return append(b, ']'), i + 1, true
			}
			if body[i] != ',' {
				return b, 0, false
			}
			b = append(b, ',')
			i = jsonx.SkipSpace(body, i+1)
		}
	case '"':
		e, ok := jsonx.SkipStrictString(body, i)
		if !ok {
			return b, 0, false
		}
		b, ok = appendString(b, body[i+1:e-1])
		return b, e, ok
	case 't', 'f', 'n':
		for _, lit := range [...]string{"true", "false", "null"} {
			if len(body)-i >= len(lit) && string(body[i:i+len(lit)]) == lit {
				return append(b, lit[0]), i + len(lit), true
			}
		}
		return b, 0, false
	default:
		e, ok := jsonx.SkipValue(body, i)
		if !ok {
			return b, 0, false
		}
		b, ok = appendNumber(b, body[i:e])
		return b, e, ok
	}
}

// object appends an object's members sorted by key.
func (kr *Keyer) object(b []byte, i, depth int) ([]byte, int, bool) {
	body := kr.body
	start := len(kr.spans)
	defer func() { kr.spans = kr.spans[:start] }()
	i = jsonx.SkipSpace(body, i+1)
	end := 0
	if i < len(body) && body[i] == '}' {
		end = i + 1
	}
	for end == 0 {
		if i >= len(body) || body[i] != '"' {
			return b, 0, false
		}
		ke, ok := jsonx.SkipStrictString(body, i)
		if !ok {
			return b, 0, false
		}
		j := jsonx.SkipSpace(body, ke)
		if j >= len(body) || body[j] != ':' {
			return b, 0, false
		}
		vs := jsonx.SkipSpace(body, j+1)
		ve, ok := jsonx.SkipStrictValue(body, vs)
		if !ok {
			return b, 0, false
		}
		if depth > 0 || !excluded(body[i+1:ke-1]) {
			kr.spans = append(kr.spans, span{int32(i + 1), int32(ke - 1), int32(vs), int32(ve)})
		}
		i = jsonx.SkipSpace(body, ve)
		switch {
		case i < len(body) && body[i] == ',':
			i = jsonx.SkipSpace(body, i+1)
		case i < len(body) && body[i] == '}':
			end = i + 1
		default:
			return b, 0, false
		}
	}
	members := kr.spans[start:]
	slices.SortStableFunc(members, func(x, y span) int {
		return bytes.Compare(body[x.ks:x.ke], body[y.ks:y.ke])
	})
	b = append(b, '{')
	for n := start; n < len(kr.spans); n++ {
		m := kr.spans[n]
		var ok bool
		if b, ok = appendString(b, body[m.ks:m.ke]); !ok {
			return b, 0, false
		}
		b = append(b, ':')
		if b, _, ok = kr.value(b, int(m.vs), depth+1); !ok {
			return b, 0, false
		}
		b = append(b, ',')
	}
	return append(b, '}'), end, true
}

// appendString appends the decoded string s (its escapes resolved) as
// a quoted string escaping only '"' and '\', so that the same text
// written with different escapes has one canonical form.
func appendString(b, s []byte) ([]byte, bool) {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b = append(b, '\\', '"')
			continue
		case '\\':
		default:
			b = append(b, c)
			continue
		}
		i++
		switch s[i] {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '/':
			b = append(b, '/')
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := hex4(s[i+1 : i+5])
			i += 4
			if utf16.IsSurrogate(r) && i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
				if r2 := utf16.DecodeRune(r, hex4(s[i+3:i+7])); r2 != utf8.RuneError {
					r = r2
					i += 6
				}
			}
			if r == '"' || r == '\\' {
				b = append(b, '\\')
			}
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"'), true
}

func hex4(h []byte) rune {
	var r rune
	for _, c := range h {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// appendNumber appends a number in one form: integers as written
// (without a leading "-" on zero; a seed keeps all its digits), others
// as the shortest float formatting, so 1, 1.0, 1.00 and 1e0 are one
// key.
func appendNumber(b, n []byte) ([]byte, bool) {
	if len(n) == 0 {
		return b, false
	}
	plain := true
	for _, c := range n {
		switch {
		case c >= '0' && c <= '9', c == '-':
		case c == '.' || c == 'e' || c == 'E' || c == '+':
			plain = false
		default:
			return b, false
		}
	}
	b = append(b, '#')
	if plain {
		if string(n) == "-0" {
			return append(b, '0'), true
		}
		return append(b, n...), true
	}
	f, err := strconv.ParseFloat(unsafeString(n), 64)
	if err != nil {
		return b, false
	}
	if f == 0 {
		f = 0 // -0
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64), true
}
