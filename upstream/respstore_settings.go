package upstream

import (
	"cmp"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/respstore"
	"github.com/redis/go-redis/v9"
)

// storeSettings bound the memory store of translated responses
// (router_settings.responses_store_*, llmedge extensions).
type storeSettings struct {
	ttl               time.Duration
	maxEntries, maxMB int
}

// initStore reads the store settings and keeps the replaced registry's
// store when they did not change (a reload must not forget responses).
func (r *Registry) initStore(cfg *config.Config, prev *Registry) config.Errors {
	st := storeSettings{
		ttl:        cmp.Or(cfg.Router.ResponsesStoreTTL, respstore.DefaultTTL),
		maxEntries: cmp.Or(cfg.Router.ResponsesStoreMaxEntries, respstore.DefaultMaxEntries),
		maxMB:      cmp.Or(cfg.Router.ResponsesStoreMaxMB, respstore.DefaultMaxBytes>>20),
	}
	r.storeCfg = st
	if prev != nil && prev.storeCfg == st {
		r.store, r.memStore = prev.memStore, prev.memStore
		return nil
	}
	r.memStore = respstore.NewMemory(st.ttl, st.maxEntries, st.maxMB<<20)
	r.store = r.memStore
	return nil
}

// UseRedisForResponses keeps translated responses on rdb (the Redis
// router_settings names) instead of in memory, so every replica can
// continue or read any of them. Keys are llmedge:resp:<namespace>:<id>:
// namespace must be the same on every replica of one gateway and differ
// between gateways (the server derives it from the master key).
func (r *Registry) UseRedisForResponses(rdb redis.UniversalClient, namespace string) {
	r.store = respstore.NewRedis(rdb, "llmedge:resp:"+namespace+":", r.storeCfg.ttl, r.storeCfg.maxMB<<20)
}

func (r *Registry) respStore() respstore.Store { return r.store }
