package anthropic

import (
	"bytes"

	"github.com/llmedge/llmedge/internal/jsonx"
)

// Betas is the anthropic-beta values a host of Claude other than
// Anthropic accepts: the client's name → the name the host knows it by.
// Bedrock and Vertex AI answer 400 to a beta they do not know, so a
// client's list (Claude Code sends several on every call) is filtered
// to these and the rest dropped. The lists follow LiteLLM's
// anthropic_beta_headers_config.json (docs/agents.md has them).
type Betas map[string]string

// Filter appends to dst, comma-separated, the betas of list (an
// anthropic-beta header value, comma-separated) that b accepts, under
// the host's names, each once.
func (b Betas) Filter(dst, list []byte) []byte {
	start := len(dst)
	b.each(list, func(name string) {
		if start < len(dst) {
			if containsItem(dst[start:], name) {
				return
			}
			dst = append(dst, ',')
		}
		dst = append(dst, name...)
	})
	return dst
}

// AppendJSON appends the betas of list that b accepts as a JSON array
// of strings (Bedrock's anthropic_beta), or nothing when none is left;
// it reports whether it appended.
func (b Betas) AppendJSON(dst, list []byte) ([]byte, bool) {
	var seen [16]string
	n := 0
	b.each(list, func(name string) {
		for _, s := range seen[:min(n, len(seen))] {
			if s == name {
				return
			}
		}
		if n < len(seen) {
			seen[n] = name
		}
		if n == 0 {
			dst = append(dst, '[')
		} else {
			dst = append(dst, ',')
		}
		dst = jsonx.AppendString(dst, name)
		n++
	})
	if n == 0 {
		return dst, false
	}
	return append(dst, ']'), true
}

func (b Betas) each(list []byte, fn func(string)) {
	for len(list) > 0 {
		var item []byte
		item, list = nextItem(list)
		if to, ok := b[string(bytes.TrimSpace(item))]; ok {
			fn(to)
		}
	}
}

func containsItem(list []byte, name string) bool {
	for len(list) > 0 {
		var item []byte
		item, list = nextItem(list)
		if string(item) == name {
			return true
		}
	}
	return false
}

// nextItem splits a comma-separated list's first item from the rest.
func nextItem(list []byte) (item, rest []byte) {
	if i := bytes.IndexByte(list, ','); i >= 0 {
		return list[:i], list[i+1:]
	}
	return list, nil
}

// MergeBetas joins two anthropic-beta lists (either may be empty).
func MergeBetas(a, b []byte) []byte {
	switch {
	case len(a) == 0:
		return b
	case len(b) == 0:
		return a
	}
	out := make([]byte, 0, len(a)+1+len(b))
	return append(append(append(out, a...), ','), b...)
}
