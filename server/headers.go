package server

import (
	"bytes"

	"github.com/valyala/fasthttp"
)

// The headers llmedge sets on answers and reads from requests, by their
// canonical names. Set, SetBytesV and Peek copy and normalize the name
// on every call; SetCanonical and PeekCanonical take it as it is (the
// names below are what normalizing gives, so the bytes on the wire are
// the same). Values still go through fasthttp's CR/LF scrub.
var (
	hdrRequestID      = []byte("X-Request-Id")
	hdrModelID        = []byte("X-Llmedge-Model-Id")
	hdrAttempts       = []byte("X-Llmedge-Attempts")
	hdrCacheControl   = []byte("Cache-Control")
	hdrAccelBuffering = []byte("X-Accel-Buffering")
	hdrAuthorization  = []byte("Authorization")
	hdrXAPIKey        = []byte("X-Api-Key")
	hdrAPIKey         = []byte("Api-Key")

	valNoCache = []byte("no-cache")
	valNo      = []byte("no")
)

// setSSEHeaders sets a stream answer's headers.
func setSSEHeaders(h *fasthttp.ResponseHeader) {
	h.SetContentType("text/event-stream")
	h.SetCanonical(hdrCacheControl, valNoCache)
	h.SetCanonical(hdrAccelBuffering, valNo)
}

// canonicalHeaderName is name as fasthttp normalizes it for Peek, found
// by asking fasthttp (a configured name: the memory routing headers);
// nil when a header of that name is not kept as set (Transfer-Encoding).
func canonicalHeaderName(name string) []byte {
	var h fasthttp.RequestHeader
	h.Set(name, "1")
	for k := range h.All() {
		return bytes.Clone(k)
	}
	return nil
}

// peekHeader is h.Peek(name) by name's canonical key (nil: by name).
func peekHeader(h *fasthttp.RequestHeader, key []byte, name string) []byte {
	if key == nil {
		return h.Peek(name)
	}
	return h.PeekCanonical(key)
}
