package limits

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sort"
)

// CounterNamer names the rate-limit counters of a key or a memory user:
// an HMAC-SHA-256 of the key's digest (or the user id) keyed with a
// per-deployment secret, truncated to 128 bits. Someone who can read
// Redis cannot test candidate keys or user ids against the names, and
// two deployments sharing a Redis with different secrets never share
// counters.
//
// The secret must be the same on every replica sharing the Redis, so it
// is derived from what they share: the master key, or (without one) the
// api_keys values. Changing them renames every counter, which starts
// fresh windows, as a new deployment would.
type CounterNamer struct{ secret [sha256.Size]byte }

// NewCounterNamer derives the secret from the master key or, without
// one, from the api_keys values.
func NewCounterNamer(masterKey string, keyValues []string) CounterNamer {
	h := sha256.New()
	h.Write([]byte("llmedge rate-limit counter names\x00"))
	if masterKey != "" {
		h.Write([]byte(masterKey))
	} else {
		vals := append([]string(nil), keyValues...)
		sort.Strings(vals)
		for _, v := range vals {
			h.Write([]byte(v))
			h.Write([]byte{0})
		}
	}
	var n CounterNamer
	h.Sum(n.secret[:0])
	return n
}

// Name is kind followed by 32 hex digits (128 bits) of the HMAC of id.
func (n *CounterNamer) Name(kind byte, id []byte) string {
	m := hmac.New(sha256.New, n.secret[:])
	m.Write([]byte{kind, 0})
	m.Write(id)
	var sum [sha256.Size]byte
	b := make([]byte, 1, 33)
	b[0] = kind
	return string(hex.AppendEncode(b, m.Sum(sum[:0])[:16]))
}
