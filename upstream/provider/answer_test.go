package provider

import (
	"bytes"
	"testing"
)

// relayedHeaderList is relayedHeader as it was: every name compared.
func relayedHeaderList(k []byte) bool {
	switch {
	case len(k) > 12 && bytes.EqualFold(k[:12], []byte("x-ratelimit-")):
		return true
	case bytes.EqualFold(k, []byte("openai-processing-ms")), bytes.EqualFold(k, []byte("openai-version")):
		return true
	case bytes.EqualFold(k, []byte("retry-after")), bytes.EqualFold(k, []byte("retry-after-ms")):
		return true
	}
	return false
}

// The first-byte dispatch relays exactly what comparing every name did,
// odd casing, near misses and Unicode folds (ſ folds to s, K to k)
// included.
func TestRelayedHeaderAsTheList(t *testing.T) {
	names := []string{"", "x", "X-", "x-ratelimit-", "x-ratelimit-a", "X-RateLimit-Remaining-Requests", "X-RATELIMIT-RESET-TOKENS",
		"x-ratelimitx", "y-ratelimit-a", "openai-processing-ms", "OpenAI-Processing-Ms", "openai-proceſsing-ms", "openai-version",
		"OPENAI-VERSION", "openai-versions", "openai-organization", "retry-after", "Retry-After", "retry-after-ms", "RETRY-AFTER-MS",
		"retry-after-msx", "retry-afteR", "Retry-After\u212a", "set-cookie", "content-type", "openai-project", "request-id",
		"\x00retry-after", "rétry-after", "x-ratelimit-\r\n", "ſet-cookie", "Openai-Version"}
	// Every single-byte change of the relayed names too.
	for _, n := range []string{"x-ratelimit-ab", "openai-processing-ms", "openai-version", "retry-after", "retry-after-ms"} {
		for i := range len(n) {
			for _, c := range []byte{0, 'a', 'X', 'O', 'R', '-', 0x80, 0xff, n[i] ^ 0x20} {
				b := []byte(n)
				b[i] = c
				names = append(names, string(b))
			}
		}
	}
	for _, n := range names {
		if got, want := relayedHeader([]byte(n)), relayedHeaderList([]byte(n)); got != want {
			t.Errorf("relayedHeader(%q) = %v, the list says %v", n, got, want)
		}
	}
}
