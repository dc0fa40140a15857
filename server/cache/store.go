package cache

import (
	"context"
	"time"
)

// Store keeps entries by key. Get returns (nil, nil) on a miss; an
// error means the store failed (the caller bypasses it, never fails the
// request). Entries handed to Set are not modified afterwards; entries
// returned by Get must not be modified.
type Store interface {
	Get(ctx context.Context, k *Key, now time.Time) (*Entry, error)
	Set(ctx context.Context, k *Key, e *Entry, ttl time.Duration) error
	// Name is the store's type as cache_params.type spells it.
	Name() string
	Close() error
}
