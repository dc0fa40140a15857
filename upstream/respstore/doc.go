// Package respstore keeps the responses llmedge made itself by
// translating the Responses API to chat, so previous_response_id can
// continue them and GET / DELETE /v1/responses/{id} (and its
// input_items) can find them: in
// memory (bounded by a TTL, an entry count and bytes) or on Redis,
// where every replica sharing it sees every response.
//
// Every entry names its owner, the caller that made it (a keyed hash of
// its API key, never the key): Get and Delete by anyone else find
// nothing, exactly as for an id never stored, so an id alone reaches
// nothing and no answer tells "exists but not yours".
//
// It owns the storage only; what an entry holds is upstream's. It must
// not log what it stores (conversations are user content).
package respstore

import (
	"context"
	"crypto/subtle"
	"errors"
	"time"
)

// Entry is one stored response.
type Entry struct {
	// Response is the response document (GET answers it).
	Response []byte
	// Conversation is the chat messages up to and including this
	// response's answer (a JSON array), for a continuation.
	Conversation []byte
	// Model is the model name the response was made for.
	Model string
	// Owner names the caller that made it: a keyed hash of its key
	// (never the key itself), never empty for a stored entry.
	Owner string
	// Input is the request's input items (a JSON array, as
	// GET .../input_items lists them); nil for entries stored before it
	// was kept.
	Input []byte
}

func (e *Entry) size() int {
	return len(e.Response) + len(e.Conversation) + len(e.Model) + len(e.Owner) + len(e.Input) + 64
}

// AnyOwner, passed as the owner to Get or Delete, reaches every entry
// (the gateway's master key reading or deleting any response). No
// caller's name is "*".
const AnyOwner = "*"

// ownedBy reports whether owner may reach an entry owned by have.
// An entry without an owner (stored before owners existed) is no one's.
func ownedBy(have, owner string) bool {
	if have == "" {
		return false
	}
	return owner == AnyOwner || subtle.ConstantTimeCompare([]byte(have), []byte(owner)) == 1
}

// Store keeps entries by response id for a time, each reachable by its
// owner only.
type Store interface {
	// Get returns the entry for id when owner made it (ok false when
	// absent, expired or another caller's: the three look alike).
	Get(ctx context.Context, id, owner string) (e *Entry, ok bool, err error)
	// Put stores e under id for the store's TTL; e.Owner must be set.
	Put(ctx context.Context, id string, e *Entry) error
	// Delete removes id when owner made it; ok reports whether it was
	// there and owner's.
	Delete(ctx context.Context, id, owner string) (ok bool, err error)
}

// ErrNoOwner is returned by Put for an entry without an owner.
var ErrNoOwner = errors.New("stored response without an owner")

// ErrTooLarge is returned by Put for an entry larger than the store
// holds.
var ErrTooLarge = errors.New("stored response larger than the store's bound")

// Defaults for the memory store.
const (
	DefaultTTL        = time.Hour
	DefaultMaxEntries = 10000
	DefaultMaxBytes   = 256 << 20
)
