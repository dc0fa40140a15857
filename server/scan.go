package server

import (
	"bytes"
	"encoding/json"

	"github.com/llmedge/llmedge/upstream"
)

// chatFields are the few facts the hot path needs from a chat body,
// found without decoding it.
type chatFields struct {
	// modelStart and modelEnd delimit the model string literal (quotes
	// included); model is its value (aliasing the body unless it had
	// escapes).
	modelStart, modelEnd int
	model                []byte
	stream               bool
	includeUsage         bool
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

// scanChat finds model, stream and stream_options.include_usage in a
// chat completion body. It walks the top-level object once, skipping
// values it does not need, and allocates nothing for bodies without
// escapes in the model name.
func scanChat(b []byte, f *chatFields) *scanError {
	*f = chatFields{}
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errNotObject
	}
	i++
	seenModel, seenStream := false, false
	for {
		i = skipWS(b, i)
		if i >= len(b) {
			return errMalformed
		}
		if b[i] == '}' {
			if skipWS(b, i+1) != len(b) {
				return errMalformed
			}
			break
		}
		if b[i] != '"' {
			return errMalformed
		}
		ks := i + 1
		ke, ok := skipString(b, i)
		if !ok {
			return errMalformed
		}
		key := b[ks : ke-1]
		i = skipWS(b, ke)
		if i >= len(b) || b[i] != ':' {
			return errMalformed
		}
		i = skipWS(b, i+1)
		if i >= len(b) {
			return errMalformed
		}
		vs := i
		switch string(key) {
		case "model":
			if seenModel {
				return errModelDup
			}
			seenModel = true
			if b[i] != '"' {
				return errModelType
			}
			e, ok := skipString(b, i)
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
				if bytes.HasPrefix(b[i:], []byte("null")) {
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
			i = e
		default:
			e, ok := skipValue(b, i)
			if !ok {
				return errMalformed
			}
			i = e
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return errMalformed
		}
		if b[i] == ',' {
			i++
			continue
		}
		if b[i] == '}' {
			if skipWS(b, i+1) != len(b) {
				return errMalformed
			}
			break
		}
		return errMalformed
	}
	if !seenModel {
		return errNoModel
	}
	return nil
}

func scanStreamOptions(b []byte, i int, f *chatFields) (int, *scanError) {
	if bytes.HasPrefix(b[i:], []byte("null")) {
		return i + 4, nil
	}
	if b[i] != '{' {
		return 0, errStreamOpts
	}
	i++
	for {
		i = skipWS(b, i)
		if i >= len(b) {
			return 0, errMalformed
		}
		if b[i] == '}' {
			return i + 1, nil
		}
		if b[i] != '"' {
			return 0, errMalformed
		}
		ks := i + 1
		ke, ok := skipString(b, i)
		if !ok {
			return 0, errMalformed
		}
		key := b[ks : ke-1]
		i = skipWS(b, ke)
		if i >= len(b) || b[i] != ':' {
			return 0, errMalformed
		}
		i = skipWS(b, i+1)
		if i >= len(b) {
			return 0, errMalformed
		}
		if string(key) == "include_usage" {
			v, e, ok := scanBool(b, i)
			if !ok {
				if e < 0 {
					return 0, errMalformed
				}
				return 0, errIncludeUsage
			}
			f.includeUsage = v
			i = e
		} else {
			e, ok := skipValue(b, i)
			if !ok {
				return 0, errMalformed
			}
			i = e
		}
		i = skipWS(b, i)
		if i < len(b) && b[i] == ',' {
			i++
		}
	}
}

// scanBool reads true/false at i. ok=false with e>=0 means a value of
// another type; e<0 means malformed.
func scanBool(b []byte, i int) (v bool, e int, ok bool) {
	switch {
	case bytes.HasPrefix(b[i:], []byte("true")):
		return true, i + 4, true
	case bytes.HasPrefix(b[i:], []byte("false")):
		return false, i + 5, true
	}
	if _, ok := skipValue(b, i); !ok {
		return false, -1, false
	}
	return false, i, false
}

// skipWS, skipString and skipValue are upstream's JSON skipping (shared
// with its usage reader).
func skipWS(b []byte, i int) int             { return upstream.SkipSpace(b, i) }
func skipString(b []byte, i int) (int, bool) { return upstream.SkipString(b, i) }
func skipValue(b []byte, i int) (int, bool)  { return upstream.SkipValue(b, i) }
