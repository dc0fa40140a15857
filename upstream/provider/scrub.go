package provider

import (
	"bytes"
	"strings"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/sse"
)

// Secret scrubbing of upstream error text before it reaches a client:
// the configured secrets themselves, and anything shaped like a
// provider key (an upstream that echoes a key back, or a key from some
// other system in its error message).

// Redacted replaces a scrubbed secret.
const Redacted = "[REDACTED]"

// keyShapes are provider key prefixes and the shortest run of token
// characters that must follow for the text to count as a key.
var keyShapes = []struct {
	prefix string
	min    int
}{
	{"sk-", 16},         // OpenAI (sk-proj-...), Anthropic (sk-ant-...), OpenRouter (sk-or-...), DeepSeek
	{"AIza", 30},        // Google API keys (Gemini, Vertex)
	{"xai-", 20},        // xAI
	{"gsk_", 20},        // Groq
	{"hf_", 20},         // Hugging Face
	{"r8_", 20},         // Replicate
	{"pplx-", 20},       // Perplexity
	{"nvapi-", 20},      // NVIDIA
	{"csk-", 20},        // Cerebras
	{"AKIA", 16},        // AWS access key id
	{"ASIA", 16},        // AWS temporary access key id
	{"ghp_", 20},        // GitHub
	{"github_pat_", 20}, // GitHub fine-grained
	{"ya29.", 20},       // Google OAuth access token
	{"Bearer ", 16},     // an echoed Authorization header
	{"bearer ", 16},
}

func tokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
}

// ScrubSecrets returns b with every occurrence of each secret (at
// least 4 bytes long) and every provider-key-shaped token replaced by
// [REDACTED]. b is returned unchanged (not copied) when there is
// nothing to scrub.
func ScrubSecrets(b []byte, secrets []string) []byte {
	for _, s := range secrets {
		if len(s) >= 4 && bytes.Contains(b, []byte(s)) {
			b = bytes.ReplaceAll(b, []byte(s), []byte(Redacted))
		}
	}
	return scrubKeyShapes(b)
}

// scrubKeyShapes replaces provider-key-shaped tokens. A token must
// start at a word boundary, so "task-..." is left alone.
func scrubKeyShapes(b []byte) []byte {
	var out []byte // nil until something is replaced
	last := 0
	for i := 0; i < len(b); i++ {
		if i > 0 && tokenChar(b[i-1]) {
			continue
		}
		for _, k := range keyShapes {
			if b[i] != k.prefix[0] || !bytes.HasPrefix(b[i:], []byte(k.prefix)) {
				continue
			}
			j := i + len(k.prefix)
			for j < len(b) && tokenChar(b[j]) {
				j++
			}
			if j-i-len(k.prefix) < k.min {
				continue
			}
			start := i
			if k.prefix[0] == 'B' || k.prefix[0] == 'b' {
				start = i + len(k.prefix) // keep the word "Bearer"
			}
			out = append(out, b[last:start]...)
			out = append(out, Redacted...)
			last = j
			i = j - 1
			break
		}
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// Scrub replaces every occurrence of d's credentials in b, whatever
// their shape, and anything shaped like a provider key.
func (d *Endpoint) Scrub(b []byte) []byte {
	for _, s := range [...]string{d.Key, d.SessionToken} {
		b = scrubValue(b, s)
	}
	for _, s := range d.HeaderSecrets {
		b = scrubValue(b, s)
	}
	if d.LastToken != nil {
		b = scrubValue(b, d.LastToken())
	}
	return scrubKeyShapes(b)
}

func scrubValue(b []byte, s string) []byte {
	if len(s) >= 4 && bytes.Contains(b, []byte(s)) {
		return bytes.ReplaceAll(b, []byte(s), []byte(Redacted))
	}
	return b
}

// CredentialHeaderSecrets are the values of extra_headers that carry
// credentials (Authorization, x-api-key, api-key, anything naming an
// auth, key, token, secret or password), and for a value with an auth
// scheme ("Bearer t", "Token t") the credential alone as well: an
// upstream may echo either.
func CredentialHeaderSecrets(hs []config.Header) []string {
	var out []string
	for _, h := range hs {
		n := strings.ToLower(h.Name)
		if !strings.Contains(n, "auth") && !strings.Contains(n, "key") && !strings.Contains(n, "token") &&
			!strings.Contains(n, "secret") && !strings.Contains(n, "password") {
			continue
		}
		out = append(out, h.Value)
		if i := strings.LastIndexByte(h.Value, ' '); i >= 0 && len(h.Value)-i-1 >= 8 {
			out = append(out, h.Value[i+1:])
		}
	}
	return out
}

// ScrubErrorEvent returns ev's bytes to relay: an error event (an
// OpenAI-style {"error":...} data, a Responses API "error" event) is
// scrubbed of d's secrets like an error body; any other event is model
// output and passes unchanged (a key-shaped string in it is the
// model's).
func (d *Endpoint) ScrubErrorEvent(ev *sse.Event) []byte {
	if !isErrorEvent(ev) {
		return ev.Raw
	}
	return d.Scrub(ev.Raw)
}

func isErrorEvent(ev *sse.Event) bool {
	if len(ev.Name) > 0 {
		return string(ev.Name) == "error"
	}
	d := ev.Data
	i := jsonx.SkipSpace(d, 0)
	// A chunk starts {"id": one byte tells it from {"error" and
	// {"type":"error" without comparing more.
	if len(d) < i+3 || d[i+2] != 'e' && d[i+2] != 't' {
		return false
	}
	return bytes.HasPrefix(d[i:], []byte(`{"error"`)) || bytes.HasPrefix(d[i:], []byte(`{"type":"error"`))
}
