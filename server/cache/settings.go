package cache

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/redis/go-redis/v9"
)

// Route is a cacheable route.
type Route uint8

// The cacheable routes.
const (
	RouteChat Route = 1 << iota
	RouteCompletions
	RouteEmbeddings
	RouteResponses
)

// Scope is what answers are shared across.
type Scope uint8

const (
	// ScopeKey shares answers among the callers of one API key (the
	// default).
	ScopeKey Scope = iota
	// ScopeGlobal shares answers among every caller (LiteLLM's way).
	ScopeGlobal
	// ScopeUser shares answers only within one memory user id of one
	// key.
	ScopeUser
)

// Settings are litellm_settings.cache and cache_params with the
// defaults applied.
type Settings struct {
	// Enabled is litellm_settings.cache.
	Enabled bool
	// Type is cache_params.type: local, redis or disk.
	Type  string
	Redis RedisConf
	// Dir is disk_cache_dir.
	Dir string
	// TTL is how long an answer is served (cache_params.ttl).
	TTL time.Duration
	// Namespace prefixes every key (cache_params.namespace).
	Namespace string
	// Routes are supported_call_types as llmedge routes.
	Routes Route
	// DefaultOff is mode: default_off: only requests that ask
	// (cache: {"use-cache": true}) use the cache.
	DefaultOff bool
	Scope      Scope
	// MaxBytes bounds the local store's memory or the disk store's
	// files (cache_params.max_bytes).
	MaxBytes int64
	// MaxEntryBytes bounds one stored answer (cache_params.max_entry_bytes).
	MaxEntryBytes int
}

// Defaults.
const (
	DefaultTTL           = 10 * time.Minute
	DefaultLocalBytes    = 256 << 20
	DefaultDiskBytes     = 1 << 30
	DefaultMaxEntryBytes = 4 << 20
)

// callTypes maps LiteLLM's supported_call_types to routes. LiteLLM
// call types llmedge has no route for (transcription, rerank, ...) are
// accepted and have no effect.
var callTypes = map[string]Route{
	"completion": RouteChat, "acompletion": RouteChat,
	"text_completion": RouteCompletions, "atext_completion": RouteCompletions,
	"embedding": RouteEmbeddings, "aembedding": RouteEmbeddings,
	"responses": RouteResponses, "aresponses": RouteResponses,
}

var otherCallTypes = map[string]bool{
	"transcription": true, "atranscription": true, "rerank": true, "arerank": true,
	"speech": true, "aspeech": true, "image_generation": true, "aimage_generation": true,
	"moderation": true, "amoderation": true,
}

const paramsPath = "litellm_settings.cache_params"

// Parse applies the defaults to the decoded settings and checks what
// the config decoder does not: the enumerations and the Redis address.
// env looks up LiteLLM's REDIS_* fallbacks (os.Getenv in production).
// Errors are *config.Error naming the key.
func Parse(ls *config.LiteLLMSettings, env func(string) string) (st Settings, errs config.Errors) {
	bad := func(key, format string, args ...any) {
		errs = append(errs, &config.Error{Path: paramsPath + "." + key, Msg: fmt.Sprintf(format, args...)})
	}
	st = Settings{Enabled: ls.Cache, Type: "local", TTL: DefaultTTL, Scope: ScopeKey,
		Routes: RouteChat | RouteCompletions | RouteEmbeddings | RouteResponses, MaxEntryBytes: DefaultMaxEntryBytes}
	p := ls.CacheParams
	if p == nil {
		p = &config.CacheParams{}
	}
	switch p.Type {
	case "":
	case "local", "redis", "disk":
		st.Type = p.Type
	default:
		bad("type", "%q is not served (known: local, redis, disk)", p.Type)
	}
	switch {
	case p.TTL > 0:
		st.TTL = p.TTL
	case st.Type == "local" && p.DefaultInMemoryTTL > 0:
		st.TTL = p.DefaultInMemoryTTL
	case st.Type == "redis" && p.DefaultInRedisTTL > 0:
		st.TTL = p.DefaultInRedisTTL
	}
	st.Namespace = p.Namespace
	if p.SupportedCallTypes != nil {
		st.Routes = 0
		for i, c := range p.SupportedCallTypes {
			if r, ok := callTypes[c]; ok {
				st.Routes |= r
			} else if !otherCallTypes[c] {
				bad("supported_call_types["+strconv.Itoa(i)+"]", "unknown call type %q (known: completion, acompletion, text_completion, atext_completion, embedding, aembedding, responses, aresponses)", c)
			}
		}
	}
	switch p.Mode {
	case "", "default_on":
	case "default_off":
		st.DefaultOff = true
	default:
		bad("mode", "%q is not a mode (known: default_on, default_off)", p.Mode)
	}
	switch p.Scope {
	case "", "key":
	case "global":
		st.Scope = ScopeGlobal
	case "user":
		st.Scope = ScopeUser
	default:
		bad("scope", "%q is not a scope (known: key, global, user)", p.Scope)
	}
	if p.MaxEntryBytes > 0 {
		st.MaxEntryBytes = int(p.MaxEntryBytes)
	}
	switch st.Type {
	case "local":
		st.MaxBytes = DefaultLocalBytes
	case "disk":
		st.MaxBytes = DefaultDiskBytes
		st.Dir = p.DiskCacheDir
		if st.Dir == "" {
			st.Dir = ".llmedge_cache"
		}
		if rest, ok := strings.CutPrefix(st.Dir, "~/"); ok {
			home, err := os.UserHomeDir()
			if err != nil {
				bad("disk_cache_dir", "%q starts with ~ but there is no home directory", st.Dir)
			}
			st.Dir = filepath.Join(home, rest)
		}
	case "redis":
		if msg, key := redisSettings(&st.Redis, p, env); msg != "" {
			bad(key, "%s", msg)
		}
	}
	if p.MaxBytes > 0 {
		st.MaxBytes = p.MaxBytes
	}
	return st, errs
}

// redisSettings fills r from p, falling back to LiteLLM's REDIS_*
// variables; a problem comes back as a message and the key it is about.
func redisSettings(r *RedisConf, p *config.CacheParams, env func(string) string) (msg, key string) {
	r.URL, r.Password, r.Username, r.DB = p.URL, p.Password, p.Username, p.DB
	host, port := p.Host, ""
	if p.Port != 0 {
		port = strconv.Itoa(p.Port)
	}
	if r.URL == "" && host == "" {
		r.URL, host = env("REDIS_URL"), env("REDIS_HOST")
		if port == "" {
			port = env("REDIS_PORT")
		}
		if r.Password == "" {
			r.Password = env("REDIS_PASSWORD")
		}
	}
	if r.URL != "" {
		if _, err := redis.ParseURL(r.URL); err != nil {
			return "not a valid redis:// or rediss:// URL", "url"
		}
		return "", ""
	}
	if host == "" {
		return "type redis needs host (or url, or the REDIS_HOST / REDIS_URL variables)", "host"
	}
	if port == "" {
		port = "6379"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "must be a TCP port, not " + strconv.Quote(port), "port"
	}
	r.Addr = net.JoinHostPort(host, port)
	return "", ""
}
