package request

import (
	"bytes"
	"encoding/json"
	"github.com/llmedge/llmedge/server/limits"
	"unicode/utf8"

	"github.com/llmedge/llmedge/internal/jsonx"
)

// Fields are the few facts the hot path needs from a request body,
// found without decoding it.
type Fields struct {
	// ModelStart and ModelEnd delimit the model string literal (quotes
	// included); Model is its value (aliasing the body unless it had
	// escapes).
	ModelStart, ModelEnd int
	Model                []byte
	Stream               bool
	IncludeUsage         bool

	// ObjStart is the index of the body's opening '{'.
	ObjStart int
	// OptionsStart/OptionsEnd delimit the stream_options value (0,0
	// when absent); UsageStart/UsageEnd delimit
	// stream_options.include_usage's value.
	OptionsStart, OptionsEnd int
	UsageStart, UsageEnd     int
	// Messages is the number of entries in messages.
	Messages int
	// MaxOut is the largest of max_tokens, max_completion_tokens and
	// max_output_tokens (0: none); N the number of choices asked for
	// (0: absent). They size the request's token reservation
	// (limits.EstimateTokens).
	MaxOut, N int64
	// Betas is the anthropic-beta list of a model-name suffix, cut from
	// Model by SplitBetas (nil: none).
	Betas []byte
	// NoOutput is set by the caller for routes that generate no tokens
	// (embeddings, by-id Responses routes, count_tokens); Scan leaves it
	// false.
	NoOutput bool
}

// Error is a 400 naming the offending field: Param is the field's path
// ("" for the body as a whole), Msg the message the client reads.
type Error struct {
	Param string
	Msg   string
}

func (e *Error) Error() string { return e.Msg }

var (
	errNotObject    = &Error{"", "request body must be a JSON object"}
	errMalformed    = &Error{"", "request body is not valid JSON"}
	ErrNoModel      = &Error{"model", "missing required field: model"}
	errModelType    = &Error{"model", "model must be a non-empty string"}
	errModelDup     = &Error{"model", "duplicate key: model"}
	errStreamType   = &Error{"stream", "stream must be a boolean"}
	errStreamDup    = &Error{"stream", "duplicate key: stream"}
	errStreamOpts   = &Error{"stream_options", "stream_options must be an object"}
	errIncludeUsage = &Error{"stream_options.include_usage", "stream_options.include_usage must be a boolean"}
)

// ScanChat validates a chat completion body and finds model, stream and
// stream_options.include_usage in it. It walks the body once, checking
// JSON syntax, nesting depth and the fields validate.go lists, without
// building any value, and allocates nothing for a valid body whose
// model name has no escapes.
func ScanChat(b []byte, f *Fields) *Error { return Scan(b, f, true) }

// Scan is ScanChat for every route with a JSON body; messages is
// required only when needMessages (chat completions, Anthropic
// messages), and checked wherever it appears.
func Scan(b []byte, f *Fields, needMessages bool) *Error {
	*f = Fields{}
	if !utf8.Valid(b) {
		return errBadUTF8
	}
	i := jsonx.SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errNotObject
	}
	f.ObjStart = i
	i++
	// The key table is 3 KiB: pooled, not a local, so that this frame
	// does not grow the goroutine of a request that then streams for
	// minutes (server/stack_test.go).
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
		var serr *Error
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
			f.ModelStart, f.ModelEnd = vs, e
			f.Model = b[vs+1 : e-1]
			if bytes.IndexByte(f.Model, '\\') >= 0 {
				var s string
				if json.Unmarshal(b[vs:e], &s) != nil {
					return errMalformed
				}
				f.Model = []byte(s)
			}
			if len(f.Model) == 0 {
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
			f.Stream = v
			i = e
		case "stream_options":
			e, serr := scanStreamOptions(b, i, f)
			if serr != nil {
				return serr
			}
			f.OptionsStart, f.OptionsEnd = vs, e
			i = e
		case "messages":
			seenMessages = true
			i, serr = scanMessages(b, i, f)
		case "temperature":
			i, serr = scanRange(b, i, 0, 2, errTemperature)
		case "top_p":
			i, serr = scanRange(b, i, 0, 1, errTopP)
		case "n":
			i, f.N, serr = scanAtLeastOne(b, i, errN)
		case "max_tokens", "max_completion_tokens":
			bad := errMaxTokens
			if len(key) > len("max_tokens") {
				bad = errMaxCompletionTokens
			}
			var v int64
			i, v, serr = scanAtLeastOne(b, i, bad)
			f.MaxOut = max(f.MaxOut, v)
		case "max_output_tokens":
			// Responses API: read when it is a count, else left for
			// the upstream to judge.
			var v float64
			var isNum bool
			v, i, isNum, serr = scanNumber(b, i)
			if isNum && v >= 1 && v <= limits.MaxEstimate {
				f.MaxOut = max(f.MaxOut, int64(v))
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
		return ErrNoModel
	}
	if !seenMessages && needMessages {
		return errNoMessages
	}
	return nil
}

func scanStreamOptions(b []byte, i int, f *Fields) (int, *Error) {
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
			if f.UsageEnd != 0 {
				return 0, &Error{"stream_options.include_usage", "duplicate key: stream_options.include_usage"}
			}
			v, e, ok := scanBool(b, i)
			if !ok {
				if e < 0 {
					return 0, errMalformed
				}
				return 0, errIncludeUsage
			}
			f.IncludeUsage = v
			f.UsageStart, f.UsageEnd = i, e
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

// Printable returns client-sent text (a path, a model or key name) fit
// to quote in an error message: at most 128 bytes, with control, non-ASCII,
// quote and backslash bytes written as '?'.
func Printable(p []byte) string {
	if len(p) > 128 {
		p = p[:128]
	}
	out := make([]byte, 0, len(p))
	for _, c := range p {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			c = '?'
		}
		out = append(out, c)
	}
	return string(out)
}
