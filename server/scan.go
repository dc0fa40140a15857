package server

import (
	"bytes"
	"encoding/json"
	"github.com/llmedge/llmedge/server/limits"
	"unicode/utf8"

	"github.com/llmedge/llmedge/internal/jsonx"
)

// bodyFields are the few facts the hot path needs from a chat body,
// found without decoding it.
type bodyFields struct {
	// modelStart and modelEnd delimit the model string literal (quotes
	// included); model is its value (aliasing the body unless it had
	// escapes).
	modelStart, modelEnd int
	model                []byte
	stream               bool
	includeUsage         bool

	// objStart is the index of the body's opening '{'.
	objStart int
	// soStart/soEnd delimit the stream_options value (0,0 when absent);
	// iuStart/iuEnd delimit stream_options.include_usage's value.
	soStart, soEnd int
	iuStart, iuEnd int
	// messages is the number of entries in messages.
	messages int
	// maxOut is the largest of max_tokens, max_completion_tokens and
	// max_output_tokens (0: none); n the number of choices asked for
	// (0: absent). They size the request's token reservation (limits.EstimateTokens).
	maxOut, n int64
	// noOutput is set for routes that generate no tokens (embeddings,
	// by-id Responses routes, count_tokens).
	noOutput bool
}

// scanError is a 400 naming the offending field.
type scanError struct {
	param string
	msg   string
}

func (e *scanError) Error() string { return e.msg }

var (
	errNotObject    = &scanError{"", "request body must be a JSON object"}
	errMalformed    = &scanError{"", "request body is not valid JSON"}
	errNoModel      = &scanError{"model", "missing required field: model"}
	errModelType    = &scanError{"model", "model must be a non-empty string"}
	errModelDup     = &scanError{"model", "duplicate key: model"}
	errStreamType   = &scanError{"stream", "stream must be a boolean"}
	errStreamDup    = &scanError{"stream", "duplicate key: stream"}
	errStreamOpts   = &scanError{"stream_options", "stream_options must be an object"}
	errIncludeUsage = &scanError{"stream_options.include_usage", "stream_options.include_usage must be a boolean"}
)

// scanChat validates a chat completion body and finds model, stream and
// stream_options.include_usage in it. It walks the body once, checking
// JSON syntax, nesting depth and the fields validate.go lists, without
// building any value, and allocates nothing for a valid body whose
// model name has no escapes.
func scanChat(b []byte, f *bodyFields) *scanError { return scanRequest(b, f, true) }

// scanRequest is scanChat for every route with a JSON body; messages is
// required only when needMessages (chat completions, Anthropic
// messages), and checked wherever it appears.
func scanRequest(b []byte, f *bodyFields, needMessages bool) *scanError {
	*f = bodyFields{}
	if !utf8.Valid(b) {
		return errBadUTF8
	}
	i := jsonx.SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errNotObject
	}
	f.objStart = i
	i++
	// The key table is 3 KiB: pooled, not a local, so that this frame
	// does not grow the goroutine of a request that then streams for
	// minutes (stack_test.go).
	keys := acquireTopKeys()
	defer keys.release()
	seenModel, seenStream, seenMessages := false, false, false
	for {
		i = jsonx.SkipSpace(b, i)
		if i >= len(b) {
			return errMalformed
		}
		if b[i] == '}' {
			if keys.n > 0 {
				return errMalformed // trailing comma
			}
			if jsonx.SkipSpace(b, i+1) != len(b) {
				return errMalformed
			}
			break
		}
		if b[i] != '"' {
			return errMalformed
		}
		ks := i + 1
		ke, ok := jsonx.SkipStrictString(b, i)
		if !ok {
			return errMalformed
		}
		key := b[ks : ke-1]
		if serr := keys.add(key); serr != nil {
			return serr
		}
		i = jsonx.SkipSpace(b, ke)
		if i >= len(b) || b[i] != ':' {
			return errMalformed
		}
		i = jsonx.SkipSpace(b, i+1)
		if i >= len(b) {
			return errMalformed
		}
		vs := i
		var serr *scanError
		switch string(key) {
		case "model":
			if seenModel {
				return errModelDup
			}
			seenModel = true
			if b[i] != '"' {
				return errModelType
			}
			e, ok := jsonx.SkipStrictString(b, i)
			if !ok {
				return errMalformed
			}
			f.modelStart, f.modelEnd = vs, e
			f.model = b[vs+1 : e-1]
			if bytes.IndexByte(f.model, '\\') >= 0 {
				var s string
				if json.Unmarshal(b[vs:e], &s) != nil {
					return errMalformed
				}
				f.model = []byte(s)
			}
			if len(f.model) == 0 {
				return errModelType
			}
			i = e
		case "stream":
			if seenStream {
				return errStreamDup
			}
			seenStream = true
			v, e, ok := scanBool(b, i)
			if !ok {
				if e < 0 {
					return errMalformed
				}
				if isNull(b, i) {
					i += 4
					break
				}
				return errStreamType
			}
			f.stream = v
			i = e
		case "stream_options":
			e, serr := scanStreamOptions(b, i, f)
			if serr != nil {
				return serr
			}
			f.soStart, f.soEnd = vs, e
			i = e
		case "messages":
			seenMessages = true
			i, serr = scanMessages(b, i, f)
		case "temperature":
			i, serr = scanRange(b, i, 0, 2, errTemperature)
		case "top_p":
			i, serr = scanRange(b, i, 0, 1, errTopP)
		case "n":
			i, f.n, serr = scanAtLeastOne(b, i, errN)
		case "max_tokens", "max_completion_tokens":
			bad := errMaxTokens
			if len(key) > len("max_tokens") {
				bad = errMaxCompletionTokens
			}
			var v int64
			i, v, serr = scanAtLeastOne(b, i, bad)
			f.maxOut = max(f.maxOut, v)
		case "max_output_tokens":
			// Responses API: read when it is a count, else left for
			// the upstream to judge.
			var v float64
			var isNum bool
			v, i, isNum, serr = scanNumber(b, i)
			if isNum && v >= 1 && v <= limits.MaxEstimate {
				f.maxOut = max(f.maxOut, int64(v))
			}
		default:
			i, serr = skipValue(b, i, 1)
		}
		if serr != nil {
			return serr
		}
		i = jsonx.SkipSpace(b, i)
		if i >= len(b) {
			return errMalformed
		}
		if b[i] == ',' {
			i++
			continue
		}
		if b[i] == '}' {
			if jsonx.SkipSpace(b, i+1) != len(b) {
				return errMalformed
			}
			break
		}
		return errMalformed
	}
	if !seenModel {
		return errNoModel
	}
	if !seenMessages && needMessages {
		return errNoMessages
	}
	return nil
}

func scanStreamOptions(b []byte, i int, f *bodyFields) (int, *scanError) {
	if isNull(b, i) {
		return i + 4, nil
	}
	if b[i] != '{' {
		if _, serr := skipValue(b, i, 1); serr != nil {
			return 0, serr
		}
		return 0, errStreamOpts
	}
	i++
	n := 0
	for {
		i = jsonx.SkipSpace(b, i)
		if i >= len(b) {
			return 0, errMalformed
		}
		if b[i] == '}' {
			if n > 0 {
				return 0, errMalformed // trailing comma
			}
			return i + 1, nil
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
		i = jsonx.SkipSpace(b, ke)
		if i >= len(b) || b[i] != ':' {
			return 0, errMalformed
		}
		i = jsonx.SkipSpace(b, i+1)
		if i >= len(b) {
			return 0, errMalformed
		}
		if string(key) == "include_usage" {
			if f.iuEnd != 0 {
				return 0, &scanError{"stream_options.include_usage", "duplicate key: stream_options.include_usage"}
			}
			v, e, ok := scanBool(b, i)
			if !ok {
				if e < 0 {
					return 0, errMalformed
				}
				return 0, errIncludeUsage
			}
			f.includeUsage = v
			f.iuStart, f.iuEnd = i, e
			i = e
		} else {
			e, serr := skipValue(b, i, 2)
			if serr != nil {
				return 0, serr
			}
			i = e
		}
		n++
		i = jsonx.SkipSpace(b, i)
		if i >= len(b) {
			return 0, errMalformed
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return i + 1, nil
		default:
			return 0, errMalformed
		}
	}
}

// scanBool reads true/false at i. ok=false with e>=0 means a value of
// another type; e<0 means malformed.
func scanBool(b []byte, i int) (v bool, e int, ok bool) {
	switch {
	case bytes.HasPrefix(b[i:], []byte("true")) && delimited(b, i+4):
		return true, i + 4, true
	case bytes.HasPrefix(b[i:], []byte("false")) && delimited(b, i+5):
		return false, i + 5, true
	}
	if _, serr := skipValue(b, i, 1); serr != nil {
		return false, -1, false
	}
	return false, i, false
}

func isNull(b []byte, i int) bool {
	return bytes.HasPrefix(b[i:], []byte("null")) && delimited(b, i+4)
}

// delimited reports whether a literal or number ending at i is followed
// by something that may follow a value.
func delimited(b []byte, i int) bool {
	if i >= len(b) {
		return true
	}
	switch b[i] {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}
