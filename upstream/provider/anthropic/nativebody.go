package anthropic

import (
	"bytes"
	"strconv"

	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/upstream/provider"
)

// NativeBody rewrites a client's Anthropic Messages body for a host of
// Claude that names the model elsewhere (Vertex AI's URL, Bedrock's
// path): the top-level members named in drop are left out, the members
// in add (each `"key":value`) appended, and everything else copied byte
// for byte, so nothing the client sent is lost in transit (thinking
// signatures, server tools, cache_control). It reports false when body
// is not a JSON object.
func NativeBody(dst, body []byte, drop []string, add ...[]byte) ([]byte, bool) {
	i := jsonx.SkipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return dst, false
	}
	dst = append(dst, '{')
	n := 0
	i = jsonx.SkipSpace(body, i+1)
	if i < len(body) && body[i] == '}' {
		i++
	} else {
		for {
			ks := i
			if ks >= len(body) || body[ks] != '"' {
				return dst, false
			}
			ke, ok := jsonx.SkipString(body, i)
			if !ok {
				return dst, false
			}
			i = jsonx.SkipSpace(body, ke)
			if i >= len(body) || body[i] != ':' {
				return dst, false
			}
			vs := jsonx.SkipSpace(body, i+1)
			ve, ok := jsonx.SkipValue(body, vs)
			if !ok {
				return dst, false
			}
			if !dropped(body[ks+1:ke-1], drop) {
				if n > 0 {
					dst = append(dst, ',')
				}
				dst = append(append(append(dst, body[ks:ke]...), ':'), body[vs:ve]...)
				n++
			}
			i = jsonx.SkipSpace(body, ve)
			if i >= len(body) {
				return dst, false
			}
			if body[i] == '}' {
				i++
				break
			}
			if body[i] != ',' {
				return dst, false
			}
			i = jsonx.SkipSpace(body, i+1)
		}
	}
	if jsonx.SkipSpace(body, i) != len(body) {
		return dst, false
	}
	for _, a := range add {
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, a...)
		n++
	}
	return append(dst, '}'), true
}

func dropped(key []byte, drop []string) bool {
	for _, d := range drop {
		if string(key) == d {
			return true
		}
	}
	return false
}

// FitNativeThinking extends NativeBody's drop and add so that a native
// body's thinking budget below Anthropic's minimum is raised and its
// max_tokens kept above the budget (provider.FitThinking); drop and
// add come back unchanged (and nothing is copied) when the body needs
// nothing. Not for count_tokens, whose bodies have no max_tokens.
func FitNativeThinking(body []byte, drop []string, add [][]byte) ([]string, [][]byte) {
	if !bytes.Contains(body, []byte(`"budget_tokens"`)) {
		return drop, add
	}
	thinking := jsonx.Get(body, "thinking")
	maxTokens := jsonx.Int(body, "max_tokens")
	t, m := provider.FitThinking(thinking, maxTokens, maxTokens > 0)
	if m == maxTokens && bytes.Equal(t, thinking) {
		return drop, add
	}
	drop = append(drop[:len(drop):len(drop)], "thinking", "max_tokens")
	add = append(add[:len(add):len(add)], append([]byte(`"thinking":`), t...), strconv.AppendInt([]byte(`"max_tokens":`), int64(m), 10))
	return drop, add
}
