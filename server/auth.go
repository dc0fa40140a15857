package server

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"

	"github.com/llmedge/llmedge/server/limits"
	"github.com/valyala/fasthttp"
)

// keyDigest is a client key as held in memory: its SHA-256.
type keyDigest [sha256.Size]byte

// authenticator maps the caller's key to an apiKey (keys.go). With no
// master key and no api_keys every caller is let in as the anonymous
// key.
type authenticator struct {
	open bool
	anon *apiKey
	// keys holds the master key (first, when set) and api_keys.
	keys []*apiKey
	// master is the master key's entry (nil when none is set).
	master *apiKey
	// names names the keys' and users' rate-limit counters.
	names limits.CounterNamer
	// db holds the database's virtual keys (nil without a database).
	db *dbKeys
}

// presentedKey returns the key from Authorization: Bearer, x-api-key or
// api-key (in that order).
func presentedKey(h *fasthttp.RequestHeader) []byte {
	if v := h.PeekCanonical(hdrAuthorization); len(v) > 0 {
		if len(v) > 7 && bytes.EqualFold(v[:7], []byte("bearer ")) {
			return bytes.TrimSpace(v[7:])
		}
		return bytes.TrimSpace(v)
	}
	if v := h.PeekCanonical(hdrXAPIKey); len(v) > 0 {
		return v
	}
	return h.PeekCanonical(hdrAPIKey)
}

// identify returns the caller's key, or nil when the request carries no
// known key. The presented key is hashed and its digest compared with
// every known digest in constant time, without stopping at a match, so
// the time taken says nothing about which key (or how much of it)
// matched. It allocates nothing.
func (a *authenticator) identify(h *fasthttp.RequestHeader) *apiKey {
	if a.open {
		return a.anon
	}
	k := presentedKey(h)
	if len(k) == 0 {
		return nil
	}
	d := keyDigest(sha256.Sum256(k))
	found := -1
	for i, key := range a.keys {
		found = subtle.ConstantTimeSelect(digestEqual(&d, &key.digest), i, found)
	}
	if found < 0 {
		if a.db != nil {
			return a.db.lookup(&d, &a.names)
		}
		return nil
	}
	return a.keys[found]
}

// digestEqual is 1 when a == b, else 0, in constant time: the XOR of
// the four 64-bit words is folded without branching (8x faster than
// subtle.ConstantTimeCompare's byte loop, which matters with many keys).
func digestEqual(a, b *keyDigest) int {
	var v uint64
	for i := 0; i < sha256.Size; i += 8 {
		v |= binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:])
	}
	return int(((v | -v) >> 63) ^ 1)
}

// admin reports whether the request may use an operator route
// (POST /config/reload, /metrics with metrics_require_auth): it needs
// the master key when one is set; api_keys entries are client keys.
// Without a master key any known key (or anyone, when open) passes.
func (a *authenticator) admin(h *fasthttp.RequestHeader) bool {
	k := a.identify(h)
	return k != nil && (a.master == nil || k == a.master)
}

// check reports whether the request carries a known key.
func (a *authenticator) check(h *fasthttp.RequestHeader) bool { return a.identify(h) != nil }
