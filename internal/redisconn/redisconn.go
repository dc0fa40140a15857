// Package redisconn builds the go-redis client options llmedge uses for
// every Redis it talks to (shared rate limits, the response cache): a
// tight timeout and no retries, because each caller falls back (local
// limits, a cache bypass) instead of waiting. It owns nothing else: no
// connection, no keys.
package redisconn

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrBadURL is returned for a URL go-redis cannot parse (its own error
// may quote the URL, password included).
var ErrBadURL = errors.New("not a valid redis:// or rediss:// URL")

// quiet drops go-redis's own log lines: each caller logs outages
// itself, once, through the server's logger.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

var setLogger sync.Once

// Options returns client options for url (when set) or addr, with
// every round trip bounded by timeout and no retries.
func Options(url, addr, username, password string, db int, timeout time.Duration) (*redis.Options, error) {
	setLogger.Do(func() { redis.SetLogger(quiet{}) })
	var opt *redis.Options
	if url != "" {
		var err error
		if opt, err = redis.ParseURL(url); err != nil {
			return nil, ErrBadURL
		}
	} else {
		opt = &redis.Options{Addr: addr, Password: password, Username: username, DB: db}
	}
	opt.DialTimeout = timeout
	opt.ReadTimeout = timeout
	opt.WriteTimeout = timeout
	opt.MaxRetries = -1 // no retries: the caller falls back instead
	opt.DialerRetries = 1
	opt.DialerRetryTimeout = 10 * time.Millisecond
	opt.ContextTimeoutEnabled = true
	return opt, nil
}
