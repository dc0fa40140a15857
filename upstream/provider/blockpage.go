package provider

import (
	"bytes"
	"fmt"

	"github.com/valyala/fasthttp"
)

// Cloudflare answers for a site it fronts when it, not the site, turns
// a request away: an HTML page (rate limit "error 1200", a browser or
// bot challenge, an access rule) with status 403 or 503, "server:
// cloudflare" and a cf-ray id. An API behind Cloudflare (OpenAI's is)
// sends the same headers on its own JSON errors, so only a body that is
// not JSON counts. The block says nothing about the request: another
// attempt, later or on another deployment, may pass.

// cfMarkers are what Cloudflare's block and challenge pages contain
// (lower case); one of them identifies a page without the headers.
var cfMarkers = [][]byte{
	[]byte("cloudflare"), []byte("cf-chl"), []byte("challenge-platform"), []byte("cf-ray"), []byte("error code: 1"),
}

// CloudflareBlock returns the client's error when a non-2xx answer is
// a Cloudflare block page: a retryable 503 naming Cloudflare, the
// status it answered and its ray id (which Cloudflare's support asks
// for); nil for any other answer. The page itself is not passed on.
func CloudflareBlock(d *Endpoint, status int, body []byte, h *fasthttp.ResponseHeader) *Error {
	if status != 403 && status != 503 {
		return nil
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		return nil // the upstream's own JSON error
	}
	ray := h.Peek("Cf-Ray")
	byHeader := len(ray) > 0 || bytes.EqualFold(h.Server(), []byte("cloudflare")) || len(h.Peek("Cf-Mitigated")) > 0
	if !byHeader && !cloudflarePage(trimmed) {
		return nil
	}
	what := "a block page"
	switch {
	case len(h.Peek("Cf-Mitigated")) > 0 || containsFold(trimmed, "challenge-platform") || containsFold(trimmed, "cf-chl"):
		what = "a challenge page"
	case containsFold(trimmed, "1200"):
		what = "error 1200 (too many requests queued)"
	}
	msg := fmt.Sprintf("upstream deployment %s (model %q) at %s is blocked by Cloudflare: HTTP %d with %s", d.ID, d.ModelName, d.Host, status, what)
	if len(ray) > 0 && len(ray) <= 64 {
		msg += fmt.Sprintf(" (cf-ray %s)", ray)
	}
	return &Error{Status: 503, Type: "service_unavailable_error", Code: "cloudflare_block", Retryable: true, Message: msg,
		RetryAfter: append([]byte(nil), RetryAfterHeader(h)...)}
}

// cloudflarePage reports whether a body names Cloudflare's pages.
func cloudflarePage(b []byte) bool {
	if len(b) > 64<<10 {
		b = b[:64<<10]
	}
	for _, m := range cfMarkers {
		if containsFold(b, string(m)) {
			return true
		}
	}
	return false
}

// containsFold is a case-insensitive bytes.Contains for an ASCII,
// lower-case needle.
func containsFold(b []byte, needle string) bool {
	n := len(needle)
	for i := 0; i+n <= len(b); i++ {
		j := 0
		for ; j < n; j++ {
			c := b[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != needle[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}
