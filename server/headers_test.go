package server

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// The canonical names are what normalizing gives, so SetCanonical and
// PeekCanonical do what Set and Peek did, on hostile values too.
func TestCanonicalHeaderNames(t *testing.T) {
	values := []string{"", "v", "a\r\nInjected: 1", " spaced ", "a\tb", "\n", "llmedge-0123-1f"}
	for _, name := range [][]byte{hdrRequestID, hdrModelID, hdrAttempts, hdrCacheControl, hdrAccelBuffering} {
		for _, v := range values {
			var a, b fasthttp.ResponseHeader
			a.Set(string(name), v)
			b.SetCanonical(name, []byte(v))
			if !bytes.Equal(a.Header(), b.Header()) {
				t.Errorf("%s: %q: Set gives\n%s\nSetCanonical gives\n%s", name, v, a.Header(), b.Header())
			}
		}
	}
	// Requests as clients write them: the lookup finds what Peek found.
	for _, line := range []string{"authorization: Bearer k", "AUTHORIZATION: k", "x-api-key: k", "X-API-KEY: k", "api-key: k", "API-Key: k",
		"x-request-id: id-1", "X-REQUEST-ID: id-2", "x_request_id: id-4", "x-request-id: a\tb"} {
		var h fasthttp.RequestHeader
		if err := h.Read(bufio.NewReader(strings.NewReader("POST / HTTP/1.1\r\nHost: h\r\n" + line + "\r\n\r\n"))); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		for _, name := range [][]byte{hdrAuthorization, hdrXAPIKey, hdrAPIKey, hdrRequestID} {
			if p, c := h.Peek(string(name)), h.PeekCanonical(name); !bytes.Equal(p, c) {
				t.Errorf("%q: Peek(%s) = %q, PeekCanonical = %q", line, name, p, c)
			}
		}
	}
}

// An upstream header name is canonical once read, so relaying it with
// SetCanonical writes what SetBytesKV wrote, whatever its casing.
func TestRelayedUpstreamHeaderIsCanonical(t *testing.T) {
	head := "HTTP/1.1 200 OK\r\nx-ratelimit-limit-requests: 1\r\nX-RATELIMIT-RESET: 2\r\nopenai-VERSION: 3\r\nretry-after-MS: 4\r\n" +
		"Retry-After: 5\r\nx-ratelimit-odd_name: 6\r\nx-ratelimit-a.b: 7\r\nOPENAI-PROCESSING-MS: 8\r\nx-RateLimit-x-y-z: \r\n" +
		"Content-Length: 0\r\n\r\n"
	var up fasthttp.ResponseHeader
	if err := up.Read(bufio.NewReader(strings.NewReader(head))); err != nil {
		t.Fatal(err)
	}
	var a, b fasthttp.ResponseHeader
	n := 0
	for k, v := range up.All() {
		a.SetBytesKV(k, v)
		b.SetCanonical(k, v)
		n++
	}
	if n < 9 || !bytes.Equal(a.Header(), b.Header()) {
		t.Fatalf("%d headers; SetBytesKV gives\n%s\nSetCanonical gives\n%s", n, a.Header(), b.Header())
	}
}

// A configured header name looked up by its canonical key finds what
// Peek finds, in requests of every casing.
func TestConfiguredHeaderNameLookup(t *testing.T) {
	names := []string{"x-memory-user-id", "X-OpenWebUI-User-Id", "x_user", "USER", "host", "Content-Type", "user-agent", "cookie",
		"content-length", "transfer-encoding", "connection", "x-a.b", "x-ünï"}
	for _, name := range names {
		key := canonicalHeaderName(name)
		for _, sent := range []string{name, strings.ToUpper(name), strings.ToLower(name), "x-other"} {
			for _, v := range []string{"carol", "a b", "1"} {
				var h fasthttp.RequestHeader
				if err := h.Read(bufio.NewReader(strings.NewReader("POST / HTTP/1.1\r\nHost: h\r\n" + sent + ": " + v + "\r\nContent-Length: 0\r\n\r\n"))); err != nil {
					continue // not a request fasthttp serves
				}
				if p, c := h.Peek(name), peekHeader(&h, key, name); !bytes.Equal(p, c) {
					t.Errorf("%q sent as %q: Peek = %q, by key %q = %q", name, sent, p, key, c)
				}
			}
		}
	}
}
