package server

import (
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/server/cache"
	"github.com/llmedge/llmedge/server/observe"
	"github.com/llmedge/llmedge/server/replicas"
	"github.com/redis/go-redis/v9"
)

// cacheSettings reads litellm_settings.cache and cache_params; errs
// name the key.
func cacheSettings(cfg *config.Config) (cache.Settings, error) {
	st, errs := cache.Parse(&cfg.LiteLLM, os.Getenv)
	if len(errs) > 0 {
		return st, errs
	}
	if st.Enabled && st.Type == "disk" {
		if err := os.MkdirAll(st.Dir, 0o700); err != nil {
			return st, config.Errors{&config.Error{Path: "litellm_settings.cache_params.disk_cache_dir", Msg: "cannot create " + strconv.Quote(st.Dir) + ": " + err.Error()}}
		}
	}
	return st, nil
}

// cacheCloseDelay is how long a cache replaced by a reload stays open
// for the calls still using it.
const cacheCloseDelay = 5 * time.Minute

// newCache returns the cache of a new snapshot: prev's when the
// settings did not change (entries, counters and connections survive a
// reload), a new one otherwise; nil when caching is off.
func (s *Server) newCache(cfg *config.Config, prev *snapshot) *cache.Cache {
	st, err := cacheSettings(cfg)
	var old *cache.Cache
	if prev != nil {
		old = prev.cache
	}
	if err != nil || !st.Enabled {
		if old != nil {
			time.AfterFunc(cacheCloseDelay, func() { _ = old.Close() })
		}
		return nil
	}
	if old != nil && reflect.DeepEqual(old.St, st) {
		return old
	}
	var rdb redis.UniversalClient
	var where string
	if st.Type == "redis" {
		rc := replicas.Conf{URL: st.Redis.URL, Addrs: st.Redis.Addr, Username: st.Redis.Username, Password: st.Redis.Password, DB: st.Redis.DB}
		if rdb, err = replicas.Open(rc); err != nil {
			s.opts.Logger.Error("response cache off", "reason", err.Error())
			return nil
		}
		where = rc.Where()
	}
	c, err := cache.New(st, s.opts.Logger, rdb, where)
	if err != nil {
		s.opts.Logger.Error("response cache off", "reason", err.Error())
		return nil
	}
	if old != nil {
		time.AfterFunc(cacheCloseDelay, func() { _ = old.Close() })
	}
	s.opts.Logger.Info("response cache on", "store", strings.TrimSpace(st.Type+" "+where), "ttl", st.TTL.String(), "scope", scopeName(st.Scope))
	return c
}

func scopeName(sc cache.Scope) string {
	switch sc {
	case cache.ScopeGlobal:
		return "global"
	case cache.ScopeUser:
		return "user"
	}
	return "key"
}

// appendCacheStatus is the cache's part of /health/readiness:
// "cache":null when off, else its store and health.
func (s *Server) appendCacheStatus(b []byte) []byte {
	c := s.current().cache
	if c == nil {
		return append(b, `,"cache":null`...)
	}
	store, ok, detail := c.Status()
	b = append(b, `,"cache":{"type":`...)
	b = appendJSONString(b, store)
	if ok {
		return append(b, `,"healthy":true}`...)
	}
	b = append(b, `,"healthy":false,"detail":`...)
	b = appendJSONString(b, detail)
	return append(b, '}')
}

// writeCacheMetrics writes the cache's series at scrape time.
func writeCacheMetrics(w io.Writer, sn *snapshot) {
	c := sn.cache
	if c == nil {
		return
	}
	var b []byte
	b = observe.AppendMetadata(b, "llmedge_cache_requests_total", "counter")
	for _, r := range [...]struct {
		v string
		n int64
	}{{cacheHit, c.Hits.Load()}, {cacheMiss, c.Misses.Load()}, {cacheBypass, c.Bypasses.Load()}} {
		b = append(b, `llmedge_cache_requests_total{result="`...)
		b = append(b, r.v...)
		b = append(b, `"} `...)
		b = strconv.AppendInt(b, r.n, 10)
		b = append(b, '\n')
	}
	for _, m := range [...]struct {
		name, typ string
		n         int64
	}{
		{"llmedge_cache_coalesced_total", "counter", c.Coalesced.Load()},
		{"llmedge_cache_served_bytes_total", "counter", c.ServedBytes.Load()},
		{"llmedge_cache_saved_tokens_total", "counter", c.SavedTokens.Load()},
		{"llmedge_cache_stores_total", "counter", c.Stores.Load()},
		{"llmedge_cache_store_errors_total", "counter", c.StoreErrors.Load()},
		{"llmedge_cache_bytes", "gauge", c.HeldBytes()},
		{"llmedge_cache_up", "gauge", boolInt(c)},
	} {
		if m.n < 0 {
			continue
		}
		b = observe.AppendMetadata(b, m.name, m.typ)
		b = append(b, m.name...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, m.n, 10)
		b = append(b, '\n')
	}
	_, _ = w.Write(b)
}

func boolInt(c *cache.Cache) int64 {
	if _, ok, _ := c.Status(); ok {
		return 1
	}
	return 0
}
