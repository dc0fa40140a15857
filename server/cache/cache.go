package cache

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/redis/go-redis/v9"
)

// Cache is one configured cache: its store, its coalescer, its health
// and its counters. A store that fails is bypassed (the request goes
// upstream as if there were no cache), warned about at most once per
// WarnEvery, and retried after RetryAfter.
type Cache struct {
	St      Settings
	Store   Store
	Flights *Flights
	log     *slog.Logger

	mu        sync.Mutex
	down      bool
	downUntil time.Time
	lastWarn  time.Time
	detail    string

	// Counters for metrics.
	Hits, Misses, Bypasses, Coalesced atomic.Int64
	ServedBytes, SavedTokens          atomic.Int64
	StoreErrors, Stores               atomic.Int64
}

// Health timings.
const (
	RetryAfter = time.Second
	WarnEvery  = 30 * time.Second
)

// New opens the store the settings name; rdb is the Redis client of
// type redis (nil otherwise), where its address for logs.
func New(st Settings, log *slog.Logger, rdb redis.UniversalClient, where string) (*Cache, error) {
	var s Store
	switch st.Type {
	case "redis":
		prefix := "llmedge:cache:"
		if st.Namespace != "" {
			prefix += st.Namespace + ":"
		}
		s = NewRedis(rdb, prefix, where)
	case "disk":
		d, err := NewDisk(st.Dir, st.MaxBytes)
		if err != nil {
			return nil, &config.Error{Path: paramsPath + ".disk_cache_dir", Msg: err.Error()}
		}
		s = d
	default:
		s = NewMemory(int(st.MaxBytes))
	}
	return &Cache{St: st, Store: s, Flights: NewFlights(), log: log}, nil
}

// Close closes the store.
func (c *Cache) Close() error { return c.Store.Close() }

// usable reports whether the store may be asked now.
func (c *Cache) usable(now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.down || !now.Before(c.downUntil)
}

// failed marks the store down after err.
func (c *Cache) failed(op string, err error, now time.Time) {
	c.StoreErrors.Add(1)
	c.mu.Lock()
	c.down, c.downUntil = true, now.Add(RetryAfter)
	c.detail = c.Store.Name() + " " + op + " failed: " + err.Error()
	warn := now.Sub(c.lastWarn) >= WarnEvery
	if warn {
		c.lastWarn = now
	}
	c.mu.Unlock()
	if warn && c.log != nil {
		c.log.Warn("response cache unavailable: requests bypass it until it answers again",
			"store", c.Store.Name(), "op", op, "error", err.Error(), "retry_after", RetryAfter.String())
	}
}

// worked marks the store up.
func (c *Cache) worked() {
	c.mu.Lock()
	if c.down {
		c.down = false
		c.detail = ""
		if c.log != nil {
			c.log.Info("response cache available again", "store", c.Store.Name())
		}
	}
	c.mu.Unlock()
}

// Get looks k up. bypass is true when the store is down or failed: the
// caller then neither reads nor stores.
func (c *Cache) Get(k *Key, now time.Time, maxAge time.Duration) (e *Entry, bypass bool) {
	if !c.usable(now) {
		return nil, true
	}
	e, err := c.Store.Get(context.Background(), k, now)
	if err != nil {
		c.failed("read", err, now)
		return nil, true
	}
	c.worked()
	if e != nil && maxAge > 0 && now.Sub(time.UnixMilli(e.Stored)) > maxAge {
		return nil, false
	}
	return e, false
}

// Put stores e under k for ttl (the settings' when 0). It is called off
// the client's path (by the call's driver) and never fails a request.
func (c *Cache) Put(k *Key, e *Entry, ttl time.Duration, now time.Time) {
	if ttl <= 0 {
		ttl = c.St.TTL
	}
	if e.Size() > c.St.MaxEntryBytes || !c.usable(now) {
		return
	}
	e.Stored = now.UnixMilli()
	e.Expires = now.Add(ttl).UnixMilli()
	if err := c.Store.Set(context.Background(), k, e, ttl); err != nil {
		c.failed("write", err, now)
		return
	}
	c.Stores.Add(1)
	c.worked()
}

// Status is the cache's part of readiness: the store, whether it
// works, and why not.
func (c *Cache) Status() (store string, healthy bool, detail string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Store.Name(), !c.down, c.detail
}

// HeldBytes is what the local or disk store holds (-1 for Redis, whose
// memory is Redis's).
func (c *Cache) HeldBytes() int64 {
	switch s := c.Store.(type) {
	case *Memory:
		b, _, _ := s.Stats()
		return int64(b)
	case *Disk:
		return s.Used()
	}
	return -1
}
