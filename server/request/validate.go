package request

import (
	"bytes"
	"github.com/llmedge/llmedge/server/limits"
	"strconv"
	"sync"
	"unsafe"

	"github.com/llmedge/llmedge/internal/jsonx"
)

// Input validation of chat bodies, done while ScanChat walks the body
// once: no value is built, nothing is allocated for a valid body, CPU is
// linear in the body size and the stack is bounded whatever the input.
//
// Limits (each failure is a 400 naming the field):
//   - body: valid UTF-8, one JSON object, strict JSON syntax;
//   - nesting: at most MaxDepth levels of objects and arrays;
//   - top level: at most MaxTopKeys keys, none repeated, none escaped
//     (an escaped key such as "mod\u0065l" would let a client smuggle a
//     second "model" past this scan to the upstream's parser);
//   - messages: 1..MaxMessages objects, each with a string role among
//     system, developer, user, assistant, tool, function;
//   - temperature 0..2, top_p 0..1, n, max_tokens and
//     max_completion_tokens integers >= 1 (null accepted for each).
const (
	MaxDepth    = 64
	MaxTopKeys  = 128
	MaxMessages = 10000
)

var (
	errBadUTF8             = &Error{"", "request body is not valid UTF-8"}
	errTooDeep             = &Error{"", "request body nests objects/arrays deeper than " + strconv.Itoa(MaxDepth) + " levels"}
	errTooManyKeys         = &Error{"", "request body has more than " + strconv.Itoa(MaxTopKeys) + " top-level fields"}
	errEscapedKey          = &Error{"", "request body has a top-level key written with escapes; write keys literally"}
	errNoMessages          = &Error{"messages", "missing required field: messages"}
	errMessagesType        = &Error{"messages", "messages must be a non-empty array of message objects"}
	errTooManyMessages     = &Error{"messages", "messages has more than " + strconv.Itoa(MaxMessages) + " entries"}
	errTemperature         = &Error{"temperature", "temperature must be a number between 0 and 2"}
	errTopP                = &Error{"top_p", "top_p must be a number between 0 and 1"}
	errN                   = &Error{"n", "n must be an integer >= 1"}
	errMaxTokens           = &Error{"max_tokens", "max_tokens must be an integer >= 1"}
	errMaxCompletionTokens = &Error{"max_completion_tokens", "max_completion_tokens must be an integer >= 1"}
)

// topKeys remembers the top-level keys seen, to refuse duplicates.
type topKeys struct {
	n    int
	keys [MaxTopKeys][]byte
}

var topKeysPool = sync.Pool{New: func() any { return new(topKeys) }}

func acquireTopKeys() *topKeys { return topKeysPool.Get().(*topKeys) }

// release forgets the keys (they alias a request body) and pools k.
func (k *topKeys) release() {
	clear(k.keys[:k.n])
	k.n = 0
	topKeysPool.Put(k)
}

func (k *topKeys) add(key []byte) *Error {
	if bytes.IndexByte(key, '\\') >= 0 {
		return errEscapedKey
	}
	if k.n == MaxTopKeys {
		return errTooManyKeys
	}
	for _, seen := range k.keys[:k.n] {
		if bytes.Equal(seen, key) {
			return &Error{string(key), "duplicate key: " + Printable(key)}
		}
	}
	k.keys[k.n] = key
	k.n++
	return nil
}

// skipValue returns the index just past the JSON value at b[i],
// checking its syntax. depth is the nesting level of the container
// holding the value (1 for a top-level field). Containers are walked
// iteratively with a fixed-size stack, so hostile nesting costs neither
// goroutine stack nor heap.
func skipValue(b []byte, i int, depth int) (int, *Error) {
	var stack [MaxDepth]byte // closing bracket per open container
	n := 0
	for {
		// A value starts at i.
		i = jsonx.SkipSpace(b, i)
		if i >= len(b) {
			return 0, errMalformed
		}
		switch c := b[i]; c {
		case '{', '[':
			if depth+n >= MaxDepth {
				return 0, errTooDeep
			}
			closer := byte('}')
			if c == '[' {
				closer = ']'
			}
			stack[n] = closer
			n++
			i = jsonx.SkipSpace(b, i+1)
			if i < len(b) && b[i] == closer {
				n--
				i++
				break
			}
			if closer == '}' {
				var ok bool
				if i, ok = skipKey(b, i); !ok {
					return 0, errMalformed
				}
			}
			continue
		case '"':
			e, ok := jsonx.SkipStrictString(b, i)
			if !ok {
				return 0, errMalformed
			}
			i = e
		case 't':
			if !bytes.HasPrefix(b[i:], []byte("true")) {
				return 0, errMalformed
			}
			i += 4
		case 'f':
			if !bytes.HasPrefix(b[i:], []byte("false")) {
				return 0, errMalformed
			}
			i += 5
		case 'n':
			if !bytes.HasPrefix(b[i:], []byte("null")) {
				return 0, errMalformed
			}
			i += 4
		default:
			e, ok := skipNumber(b, i)
			if !ok {
				return 0, errMalformed
			}
			i = e
		}
		// After a value: close containers or move to the next element.
		for {
			if n == 0 {
				if !delimited(b, i) {
					return 0, errMalformed
				}
				return i, nil
			}
			i = jsonx.SkipSpace(b, i)
			if i >= len(b) {
				return 0, errMalformed
			}
			if b[i] == stack[n-1] {
				n--
				i++
				continue
			}
			if b[i] != ',' {
				return 0, errMalformed
			}
			i++
			if stack[n-1] == '}' {
				var ok bool
				if i, ok = skipKey(b, jsonx.SkipSpace(b, i)); !ok {
					return 0, errMalformed
				}
			}
			break
		}
	}
}

// skipKey reads `"key" :` at i and returns the index after the colon.
func skipKey(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	e, ok := jsonx.SkipStrictString(b, i)
	if !ok {
		return 0, false
	}
	e = jsonx.SkipSpace(b, e)
	if e >= len(b) || b[e] != ':' {
		return 0, false
	}
	return e + 1, true
}

// skipNumber returns the index past the JSON number at b[i].
func skipNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return 0, false
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == s {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == s {
			return 0, false
		}
	}
	return i, true
}

// scanNumber parses the number at b[i]. isNum=false with a nil error
// means the value is of another type (skipped, end returned).
func scanNumber(b []byte, i int) (v float64, end int, isNum bool, serr *Error) {
	c := b[i]
	if c != '-' && (c < '0' || c > '9') {
		e, serr := skipValue(b, i, 1)
		return 0, e, false, serr
	}
	e, ok := skipNumber(b, i)
	if !ok || !delimited(b, e) {
		return 0, 0, false, errMalformed
	}
	// The body outlives this call and is not modified during it: a
	// string view avoids a copy. ParseFloat keeps it only in its error,
	// which is dropped here.
	v, err := strconv.ParseFloat(unsafe.String(&b[i], e-i), 64)
	if err != nil {
		return 0, 0, false, errMalformed // out of float64 range
	}
	return v, e, true, nil
}

func scanRange(b []byte, i int, lo, hi float64, bad *Error) (int, *Error) {
	if isNull(b, i) {
		return i + 4, nil
	}
	v, e, isNum, serr := scanNumber(b, i)
	if serr != nil {
		return 0, serr
	}
	if !isNum || v < lo || v > hi {
		return 0, bad
	}
	return e, nil
}

func scanAtLeastOne(b []byte, i int, bad *Error) (int, int64, *Error) {
	if isNull(b, i) {
		return i + 4, 0, nil
	}
	v, e, isNum, serr := scanNumber(b, i)
	if serr != nil {
		return 0, 0, serr
	}
	if !isNum || v < 1 || v != float64(int64(v)) {
		return 0, 0, bad
	}
	return e, min(int64(v), limits.MaxEstimate), nil
}

// validRole reports whether a role string literal's content is one of
// OpenAI's chat roles.
func validRole(r []byte) bool {
	switch string(r) {
	case "system", "developer", "user", "assistant", "tool", "function":
		return true
	}
	return false
}

// scanMessages checks the messages array at b[i]: 1..MaxMessages
// objects, each with one valid role.
func scanMessages(b []byte, i int, f *Fields) (int, *Error) {
	if b[i] != '[' {
		if _, serr := skipValue(b, i, 1); serr != nil {
			return 0, serr
		}
		return 0, errMessagesType
	}
	i = jsonx.SkipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return 0, errMessagesType
	}
	n := 0
	for {
		i = jsonx.SkipSpace(b, i)
		if i >= len(b) {
			return 0, errMalformed
		}
		if n == MaxMessages {
			return 0, errTooManyMessages
		}
		e, serr := scanMessage(b, i, n)
		if serr != nil {
			return 0, serr
		}
		n++
		i = jsonx.SkipSpace(b, e)
		if i >= len(b) {
			return 0, errMalformed
		}
		if b[i] == ']' {
			f.Messages = n
			return i + 1, nil
		}
		if b[i] != ',' {
			return 0, errMalformed
		}
		i++
	}
}

func messageErr(idx int, field, msg string) *Error {
	p := "messages[" + strconv.Itoa(idx) + "]"
	if field != "" {
		p += "." + field
	}
	return &Error{p, p + " " + msg}
}

// scanMessage checks one message object (the array is depth 1, the
// message depth 2).
func scanMessage(b []byte, i int, idx int) (int, *Error) {
	if b[i] != '{' {
		if _, serr := skipValue(b, i, 2); serr != nil {
			return 0, serr
		}
		return 0, messageErr(idx, "", "must be an object")
	}
	i++
	seenRole := false
	first := true
	for {
		i = jsonx.SkipSpace(b, i)
		if i >= len(b) {
			return 0, errMalformed
		}
		if b[i] == '}' && first {
			i++
			break
		}
		if b[i] != '"' {
			return 0, errMalformed
		}
		ks := i + 1
		ke, ok := jsonx.SkipStrictString(b, i)
		if !ok {
			return 0, errMalformed
		}
		key := b[ks : ke-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return 0, messageErr(idx, "", "has a key written with escapes; write keys literally")
		}
		i = jsonx.SkipSpace(b, ke)
		if i >= len(b) || b[i] != ':' {
			return 0, errMalformed
		}
		i = jsonx.SkipSpace(b, i+1)
		if i >= len(b) {
			return 0, errMalformed
		}
		if string(key) == "role" {
			if seenRole {
				return 0, messageErr(idx, "role", "is repeated (duplicate key)")
			}
			seenRole = true
			if b[i] != '"' {
				if _, serr := skipValue(b, i, 2); serr != nil {
					return 0, serr
				}
				return 0, messageErr(idx, "role", "must be one of system, developer, user, assistant, tool, function")
			}
			e, ok := jsonx.SkipStrictString(b, i)
			if !ok {
				return 0, errMalformed
			}
			if !validRole(b[i+1 : e-1]) {
				return 0, messageErr(idx, "role", "must be one of system, developer, user, assistant, tool, function")
			}
			i = e
		} else {
			e, serr := skipValue(b, i, 2)
			if serr != nil {
				return 0, serr
			}
			i = e
		}
		first = false
		i = jsonx.SkipSpace(b, i)
		if i >= len(b) {
			return 0, errMalformed
		}
		if b[i] == ',' {
			i++
			continue
		}
		if b[i] == '}' {
			i++
			break
		}
		return 0, errMalformed
	}
	if !seenRole {
		return 0, messageErr(idx, "role", "is required")
	}
	return i, nil
}
