// Package respstore keeps the responses llmedge made itself by
// translating the Responses API to chat, so previous_response_id can
// continue them and GET / DELETE /v1/responses/{id} (and its
// input_items) can find them: in
// memory (bounded by a TTL, an entry count and bytes) or on Redis,
// where every replica sharing it sees every response.
//
// It owns the storage only; what an entry holds is upstream's. It must
// not log what it stores (conversations are user content).
package respstore

import (
	"context"
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
	// Input is the request's input items (a JSON array, as
	// GET .../input_items lists them); nil for entries stored before it
	// was kept.
	Input []byte
}

func (e *Entry) size() int {
	return len(e.Response) + len(e.Conversation) + len(e.Model) + len(e.Input) + 64
}

// Store keeps entries by response id for a time.
type Store interface {
	// Get returns the entry for id (ok false when absent or expired).
	Get(ctx context.Context, id string) (e *Entry, ok bool, err error)
	// Put stores e under id for the store's TTL.
	Put(ctx context.Context, id string, e *Entry) error
	// Delete removes id; ok reports whether it was there.
	Delete(ctx context.Context, id string) (ok bool, err error)
}

// ErrTooLarge is returned by Put for an entry larger than the store
// holds.
var ErrTooLarge = errors.New("stored response larger than the store's bound")

// Defaults for the memory store.
const (
	DefaultTTL        = time.Hour
	DefaultMaxEntries = 10000
	DefaultMaxBytes   = 256 << 20
)
