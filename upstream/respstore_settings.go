package upstream

import (
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/respstore"
	"github.com/redis/go-redis/v9"
)

// storeSettings bound the memory store of translated responses
// (router_settings or litellm_settings, llmedge extensions).
type storeSettings struct {
	ttlSeconds, maxEntries, maxMB int
}

// initStore reads the store settings and keeps the replaced registry's
// store when they did not change (a reload must not forget responses).
func (r *Registry) initStore(cfg *config.Config, prev *Registry) config.Errors {
	s := &settingsReader{sections: []map[string]any{cfg.Router.Raw, cfg.LiteLLM.Raw}, names: []string{"router_settings", "litellm_settings"}}
	st := storeSettings{
		ttlSeconds: s.count("responses_store_ttl_seconds", int(respstore.DefaultTTL.Seconds())),
		maxEntries: s.count("responses_store_max_entries", respstore.DefaultMaxEntries),
		maxMB:      s.count("responses_store_max_mb", respstore.DefaultMaxBytes>>20),
	}
	r.storeCfg = st
	if prev != nil && prev.storeCfg == st {
		r.store, r.memStore = prev.memStore, prev.memStore
		return s.errs
	}
	r.memStore = respstore.NewMemory(st.ttl(), st.maxEntries, st.maxMB<<20)
	r.store = r.memStore
	return s.errs
}

func (st storeSettings) ttl() time.Duration { return time.Duration(st.ttlSeconds) * time.Second }

// UseRedisForResponses keeps translated responses on rdb (the Redis
// router_settings names) instead of in memory, so every replica can
// continue or read any of them.
func (r *Registry) UseRedisForResponses(rdb redis.UniversalClient) {
	r.store = respstore.NewRedis(rdb, "llmedge:resp:", r.storeCfg.ttl(), r.storeCfg.maxMB<<20)
}

func (r *Registry) respStore() respstore.Store { return r.store }
