package cache

import (
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/llmedge/llmedge/config"
)

// Route is a cacheable route.
type Route uint8

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

// Settings are litellm_settings.cache and cache_params.
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
// accepted and reported as ignored.
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

// Error is a problem with one settings key.
type Error struct{ Path, Msg string }

func (e *Error) Error() string { return e.Path + ": " + e.Msg }

const paramsPath = "litellm_settings.cache_params"

// Parse reads the cache settings from litellm_settings (after
// os.environ/ resolution). env looks up REDIS_* fallbacks (os.Getenv in
// production). Ignored lists the keys read but not acted on.
func Parse(ls map[string]any, env func(string) string) (st Settings, ignored []string, errs []error) {
	bad := func(key, format string, args ...any) {
		errs = append(errs, &Error{Path: paramsPath + "." + key, Msg: fmt.Sprintf(format, args...)})
	}
	switch v := ls["cache"].(type) {
	case nil:
	case bool:
		st.Enabled = v
	default:
		errs = append(errs, &Error{Path: "litellm_settings.cache", Msg: "must be true or false"})
	}
	st.Type, st.TTL, st.Scope, st.Routes = "local", DefaultTTL, ScopeKey, RouteChat|RouteCompletions|RouteEmbeddings|RouteResponses
	st.MaxEntryBytes = DefaultMaxEntryBytes
	p, isMap := ls["cache_params"].(map[string]any)
	if ls["cache_params"] != nil && !isMap {
		errs = append(errs, &Error{Path: paramsPath, Msg: "must be a mapping"})
	}
	if t, ok := p["type"]; ok && t != nil {
		s, _ := t.(string)
		switch s {
		case "local", "redis", "disk":
			st.Type = s
		default:
			bad("type", "%q is not served (known: local, redis, disk)", fmt.Sprint(t))
		}
	}
	str := func(k string) string {
		v, ok := p[k]
		if !ok || v == nil {
			return ""
		}
		switch v := v.(type) {
		case string:
			return v
		case int, int64, uint64, float64:
			return fmt.Sprint(v)
		}
		bad(k, "must be a string")
		return ""
	}
	num := func(k string, min, max float64) (float64, bool) {
		v, ok := p[k]
		if !ok || v == nil {
			return 0, false
		}
		f, ok := config.Number(v)
		if !ok {
			bad(k, "must be a number")
			return 0, false
		}
		if math.IsNaN(f) || f < min || f > max {
			bad(k, "must be between %g and %g", min, max)
			return 0, false
		}
		return f, true
	}
	for k := range p {
		switch k {
		case "type", "host", "port", "password", "username", "url", "redis_url", "db", "disk_cache_dir",
			"ttl", "default_in_memory_ttl", "default_in_redis_ttl", "namespace", "supported_call_types",
			"mode", "scope", "max_bytes", "max_entry_bytes":
		default:
			ignored = append(ignored, paramsPath+"."+k)
		}
	}
	sort.Strings(ignored)

	if v, ok := num("ttl", 1, 10*365*86400); ok {
		st.TTL = time.Duration(v * float64(time.Second))
	}
	typed := map[string]string{"local": "default_in_memory_ttl", "redis": "default_in_redis_ttl"}[st.Type]
	if _, set := p["ttl"]; !set && typed != "" {
		if v, ok := num(typed, 1, 10*365*86400); ok {
			st.TTL = time.Duration(v * float64(time.Second))
		}
	}
	st.Namespace = str("namespace")
	if v, ok := p["supported_call_types"]; ok && v != nil {
		list, ok := v.([]any)
		if !ok {
			bad("supported_call_types", "must be a list of call types (completion, acompletion, text_completion, embedding, responses, ...)")
		}
		st.Routes = 0
		for i, c := range list {
			s, _ := c.(string)
			if r, ok := callTypes[s]; ok {
				st.Routes |= r
			} else if !otherCallTypes[s] {
				bad("supported_call_types["+strconv.Itoa(i)+"]", "unknown call type %q (known: completion, acompletion, text_completion, atext_completion, embedding, aembedding, responses, aresponses)", fmt.Sprint(c))
			}
		}
	}
	switch m := str("mode"); m {
	case "", "default_on":
	case "default_off":
		st.DefaultOff = true
	default:
		bad("mode", "%q is not a mode (known: default_on, default_off)", m)
	}
	switch s := str("scope"); s {
	case "", "key":
	case "global":
		st.Scope = ScopeGlobal
	case "user":
		st.Scope = ScopeUser
	default:
		bad("scope", "%q is not a scope (known: key, global, user)", s)
	}
	if v, ok := num("max_entry_bytes", 1024, 1<<30); ok {
		st.MaxEntryBytes = int(v)
	}
	switch st.Type {
	case "local":
		st.MaxBytes = DefaultLocalBytes
	case "disk":
		st.MaxBytes = DefaultDiskBytes
		st.Dir = str("disk_cache_dir")
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
		parseRedis(&st, str, num, bad, env)
	}
	if v, ok := num("max_bytes", 1<<20, 1<<50); ok {
		st.MaxBytes = int64(v)
	}
	return st, ignored, errs
}

func parseRedis(st *Settings, str func(string) string, num func(string, float64, float64) (float64, bool),
	bad func(string, string, ...any), env func(string) string) {
	r := &st.Redis
	r.URL = str("url")
	if r.URL == "" {
		r.URL = str("redis_url")
	}
	host, port := str("host"), str("port")
	r.Password, r.Username = str("password"), str("username")
	if v, ok := num("db", 0, 1<<16); ok {
		r.DB = int(v)
	}
	if r.URL == "" && host == "" {
		// LiteLLM's fallbacks.
		r.URL, host, port = env("REDIS_URL"), env("REDIS_HOST"), firstNonEmpty(port, env("REDIS_PORT"))
		if r.Password == "" {
			r.Password = env("REDIS_PASSWORD")
		}
	}
	if r.URL != "" {
		if _, err := NewRedis(RedisConf{URL: r.URL}, ""); err != nil {
			bad("url", "not a valid redis:// or rediss:// URL")
		}
		return
	}
	if host == "" {
		bad("host", "type redis needs host (or url, or the REDIS_HOST / REDIS_URL variables)")
		return
	}
	if port == "" {
		port = "6379"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		bad("port", "must be a TCP port, not %q", port)
	}
	r.Addr = net.JoinHostPort(host, port)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
