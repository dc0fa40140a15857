package config

import "time"

// CacheParams is litellm_settings.cache_params, LiteLLM's keys plus
// llmedge's scope, max_bytes and max_entry_bytes. Package server/cache
// checks the enumerations (type, mode, scope, supported_call_types) and
// applies the defaults, documented in docs/cache.md. A key it does not
// know is an error: LiteLLM's other cache types and their keys
// (similarity_threshold, s3_*) would silently cache differently.
type CacheParams struct {
	// Type is local, redis or disk (default local).
	Type string `yaml:"type"`
	// Redis (type redis): URL, or Host with Port (default 6379),
	// Password, Username, DB; default the REDIS_* variables.
	Host     string `yaml:"host"`
	Port     int    `yaml:"port" max:"65535"`
	Password string `yaml:"password"`
	Username string `yaml:"username"`
	DB       int    `yaml:"db" max:"65535"`
	URL      string `yaml:"url"`
	// DiskCacheDir (type disk; default .llmedge_cache, ~/ expanded).
	DiskCacheDir string `yaml:"disk_cache_dir"`
	// TTL of a stored answer (default 600 s); DefaultInMemoryTTL and
	// DefaultInRedisTTL are LiteLLM's per-type names, read when TTL is
	// unset.
	TTL                time.Duration `yaml:"ttl" min:"1s" max:"87600h"`
	DefaultInMemoryTTL time.Duration `yaml:"default_in_memory_ttl" min:"1s" max:"87600h"`
	DefaultInRedisTTL  time.Duration `yaml:"default_in_redis_ttl" min:"1s" max:"87600h"`
	// Namespace prefixes every key (default none).
	Namespace string `yaml:"namespace"`
	// SupportedCallTypes are the LiteLLM call types cached (default all
	// llmedge serves).
	SupportedCallTypes []string `yaml:"supported_call_types"`
	// Mode is default_on or default_off (default default_on).
	Mode string `yaml:"mode"`
	// Scope is key, user or global (default key); llmedge's.
	Scope string `yaml:"scope"`
	// MaxBytes bounds the local store's memory or the disk store's files
	// (default 256 MiB local, 1 GiB disk); llmedge's.
	MaxBytes int64 `yaml:"max_bytes" min:"1048576"`
	// MaxEntryBytes bounds one stored answer (default 4 MiB); llmedge's.
	MaxEntryBytes int64 `yaml:"max_entry_bytes" min:"1024" max:"1073741824"`
}
