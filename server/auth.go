package server

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"

	"github.com/valyala/fasthttp"
)

// keyDigest is a client key as held in memory: its SHA-256.
type keyDigest [sha256.Size]byte

// authenticator checks the caller's key. With no master key every
// caller is let in.
type authenticator struct {
	master keyDigest
	open   bool
}

func newAuthenticator(masterKey string) *authenticator {
	if masterKey == "" {
		return &authenticator{open: true}
	}
	return &authenticator{master: sha256.Sum256([]byte(masterKey))}
}

// presentedKey returns the key from Authorization: Bearer, x-api-key or
// api-key (in that order).
func presentedKey(h *fasthttp.RequestHeader) []byte {
	if v := h.Peek("Authorization"); len(v) > 0 {
		if len(v) > 7 && bytes.EqualFold(v[:7], []byte("bearer ")) {
			return bytes.TrimSpace(v[7:])
		}
		return bytes.TrimSpace(v)
	}
	if v := h.Peek("X-Api-Key"); len(v) > 0 {
		return v
	}
	return h.Peek("Api-Key")
}

// check reports whether the request carries the master key. The
// comparison is over digests, so it takes the same time whatever the
// presented key's length or content.
func (a *authenticator) check(h *fasthttp.RequestHeader) bool {
	if a.open {
		return true
	}
	k := presentedKey(h)
	if len(k) == 0 {
		return false
	}
	d := sha256.Sum256(k)
	return subtle.ConstantTimeCompare(d[:], a.master[:]) == 1
}
