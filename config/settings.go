package config

import (
	"reflect"
	"time"
)

// The settings sections, typed. Each field's yaml tag is its key: the
// decoder (decode.go) fills the fields from the tags, and the keys
// llmedge knows (keys.go) are derived from the same tags, so a setting
// is added by adding a field. Tag options: "required" (an absent key is
// an error), "nonempty" (a key given as "" is an error), "inline" (the
// field's own keys belong to the enclosing mapping); min/max tags bound
// numbers and durations. Durations are read as a number of seconds or a
// Go duration string ("30s", "1m", "500ms"). Zero means unset unless a
// comment says otherwise; the default named in each comment is applied
// by the package that acts on the setting.

// GeneralSettings is general_settings: the edge's keys, limits and HTTP
// server bounds (package server acts on them, except cookie_store_path).
type GeneralSettings struct {
	// MasterKey is the admin key; "" means no auth.
	MasterKey string `yaml:"master_key"`
	// APIKeys are the client keys with their own models and limits.
	APIKeys []APIKey `yaml:"api_keys"`
	// MaxParallelRequests and GlobalMaxParallelRequests cap requests in
	// flight across the process (the smaller wins; default unlimited).
	MaxParallelRequests       int64 `yaml:"max_parallel_requests"`
	GlobalMaxParallelRequests int64 `yaml:"global_max_parallel_requests"`
	// UserRPMLimit, UserTPMLimit and UserMaxParallelRequests apply to
	// each memory user id (default unlimited).
	UserRPMLimit            int64 `yaml:"user_rpm_limit"`
	UserTPMLimit            int64 `yaml:"user_tpm_limit"`
	UserMaxParallelRequests int64 `yaml:"user_max_parallel_requests"`
	// MetricsRequireAuth makes /metrics ask for the master key. Default
	// false.
	MetricsRequireAuth bool `yaml:"metrics_require_auth"`
	// StreamKeepalive is the interval of ": ping" comments on a silent
	// stream (default off; at most an hour).
	StreamKeepalive time.Duration `yaml:"stream_keepalive_seconds" max:"1h"`
	// MaxRequestSizeMB bounds a request body (default the server's 32).
	MaxRequestSizeMB float64 `yaml:"max_request_size_mb"`
	// MaxRequestBodyInFlightMB bounds the large bodies held at once
	// (default the server's; at least MaxRequestSizeMB).
	MaxRequestBodyInFlightMB float64 `yaml:"max_request_body_in_flight_mb"`
	// CORSAllowOrigins are the origins browsers may call from: a list,
	// or one comma-separated string (default none: no CORS headers).
	CORSAllowOrigins []string `yaml:"cors_allow_origins"`
	// CookieStorePath is the file upstream cookies persist in (default
	// none: cookies kept in memory).
	CookieStorePath string `yaml:"cookie_store_path"`
	// DatabaseURL holds virtual keys, budgets and spend (keys/):
	// postgresql://... or sqlite:///path; "" = the embedded SQLite file
	// (opened only with a master key).
	DatabaseURL string `yaml:"database_url"`
	// StoreModelInDB is LiteLLM's switch to keep models in its
	// database. llmedge's models come from this file only: true is
	// reported as not acted on (ignored.go), false is what llmedge does.
	StoreModelInDB bool `yaml:"store_model_in_db"`
	// HTTPReadTimeout, HTTPIdleTimeout and HTTPWriteTimeout bound reading
	// one request, an idle keep-alive connection and one blocked write
	// to a client (default the server's).
	HTTPReadTimeout  time.Duration `yaml:"http_read_timeout"`
	HTTPIdleTimeout  time.Duration `yaml:"http_idle_timeout"`
	HTTPWriteTimeout time.Duration `yaml:"http_write_timeout"`
	// MaxHeaderBytes bounds a request head (default the server's).
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// MaxConnectionsPerIP caps one client address (default unlimited).
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip"`
	// BackgroundHealthChecks probes every deployment every
	// HealthCheckInterval (default off; interval default 300 s, at
	// least 0.1 s): the cheapest request each provider has
	// (server/health_probe.go), results in /health and the metrics.
	BackgroundHealthChecks bool          `yaml:"background_health_checks"`
	HealthCheckInterval    time.Duration `yaml:"health_check_interval" min:"100ms" max:"24h"`
	// AllowedIPs are the client addresses or CIDR ranges served; others
	// get 403 (default: every address).
	AllowedIPs []string `yaml:"allowed_ips"`
	// AllowedRoutes are the paths served ("/v1/chat/completions" also
	// allows "/chat/completions"; "/responses/*" a subtree); others get
	// 403 (default: every route).
	AllowedRoutes []string `yaml:"allowed_routes"`
}

// APIKey is one general_settings.api_keys entry.
type APIKey struct {
	// Key is the secret a client sends. An empty value (an unset
	// os.environ variable) leaves the entry unusable.
	Key string `yaml:"key,required"`
	// Name labels the key in logs and namespaces its memory user ids
	// (default "key-<index>").
	Name string `yaml:"name"`
	// UserID, when set, is the memory user id the key always acts as.
	UserID string `yaml:"user_id,nonempty"`
	// Models the key may call; nil = every model, empty = none.
	Models []string `yaml:"models"`
	// RPMLimit, TPMLimit and MaxParallelRequests limit the key (default
	// unlimited).
	RPMLimit            int64 `yaml:"rpm_limit"`
	TPMLimit            int64 `yaml:"tpm_limit"`
	MaxParallelRequests int64 `yaml:"max_parallel_requests"`
}

// LiteLLMSettings is litellm_settings.
type LiteLLMSettings struct {
	// DropParams drops parameters a provider lacks instead of failing
	// with 400. Default false.
	DropParams bool `yaml:"drop_params"`
	// RequestTimeout bounds a non-stream call of a deployment without
	// its own timeout (default the router's).
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// JSONLogs writes logs as JSON. Default false.
	JSONLogs bool `yaml:"json_logs"`
	// Callbacks and SuccessCallback name LiteLLM's logging
	// integrations: "otel" turns on OpenTelemetry traces
	// (docs/tracing.md); llmedge runs no other. Default none.
	Callbacks       []string `yaml:"callbacks"`
	SuccessCallback []string `yaml:"success_callback"`
	// Cache turns the response cache on (server/cache). Default false.
	Cache bool `yaml:"cache"`
	// CacheParams configures it (cache.go); nil = every default.
	CacheParams *CacheParams `yaml:"cache_params"`
	// TurnOffMessageLogging keeps message text off spans even when
	// OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT asks for it
	// (LiteLLM's name; llmedge records no text by default). Default
	// false.
	TurnOffMessageLogging bool `yaml:"turn_off_message_logging"`
	// RepeatedStreamingChunkLimit ends a stream whose model sends the
	// same text chunk this many times in a row (LiteLLM's key, upper
	// case as LiteLLM spells it; default 100, 0 = off).
	RepeatedStreamingChunkLimit *int `yaml:"REPEATED_STREAMING_CHUNK_LIMIT"`
	// RetrySettings given here apply where router_settings has none.
	RetrySettings `yaml:",inline"`
	// Egress is the forward proxies and TLS of every upstream
	// connection (egress.go).
	Egress `yaml:",inline"`
}

// RouterSettings is router_settings.
type RouterSettings struct {
	// RoutingStrategy picks a deployment of a group. Default
	// "simple-shuffle".
	RoutingStrategy string `yaml:"routing_strategy"`
	// Timeout and StreamTimeout apply to deployments without their own
	// (default 600 s each).
	Timeout       time.Duration `yaml:"timeout" max:"8760h"`
	StreamTimeout time.Duration `yaml:"stream_timeout" max:"8760h"`
	// DefaultMaxParallelRequests caps the calls in flight on a
	// deployment without its own max_parallel_requests (default none).
	DefaultMaxParallelRequests int `yaml:"default_max_parallel_requests" max:"1000000"`
	// ResponsesStore* bound the responses llmedge keeps for
	// previous_response_id when it translates the Responses API (TTL
	// default 1 h, 10000 entries, 256 MB in memory); llmedge's.
	ResponsesStoreTTL        time.Duration `yaml:"responses_store_ttl_seconds" max:"8760h"`
	ResponsesStoreMaxEntries int           `yaml:"responses_store_max_entries" max:"100000000"`
	ResponsesStoreMaxMB      int           `yaml:"responses_store_max_mb" max:"1048576"`
	// ConnectionPool applies to every upstream host (nil = defaults).
	ConnectionPool *ConnectionPool `yaml:"connection_pool"`
	// Redis shares limits and counters across processes: RedisURL, or
	// RedisHost with RedisPort (default 6379), RedisPassword,
	// RedisUsername and RedisDB. Default none: counted in memory.
	RedisURL      string `yaml:"redis_url"`
	RedisHost     string `yaml:"redis_host"`
	RedisPort     int    `yaml:"redis_port" max:"65535"`
	RedisPassword string `yaml:"redis_password"`
	RedisUsername string `yaml:"redis_username"`
	RedisDB       int    `yaml:"redis_db"`
	// ModelGroupAlias maps a name clients may ask for to a model group:
	// {alias: group} or {alias: {model: group, hidden: true}} (hidden
	// aliases are served but not listed by /v1/models).
	ModelGroupAlias map[string]GroupAlias `yaml:"model_group_alias"`
	// Redis as it is run at scale, named as LiteLLM's cache_params name
	// it (server/replicas, docs/replicas.md): SSL (a rediss:// URL sets
	// it too) with SSLCACerts (PEM roots; default the system's);
	// SentinelNodes ([host, port] pairs) with ServiceName and
	// SentinelPassword; RedisStartupNodes for Redis Cluster. Default none.
	SSL               bool        `yaml:"ssl"`
	SSLCACerts        string      `yaml:"ssl_ca_certs"`
	SentinelNodes     []HostPort  `yaml:"sentinel_nodes"`
	ServiceName       string      `yaml:"service_name"`
	SentinelPassword  string      `yaml:"sentinel_password"`
	RedisStartupNodes []RedisNode `yaml:"redis_startup_nodes"`
	// RetrySettings win over litellm_settings' key by key.
	RetrySettings `yaml:",inline"`
}

// GroupAlias is one model_group_alias entry; a plain string is Model.
type GroupAlias struct {
	Model  string `yaml:"model,required"`
	Hidden bool   `yaml:"hidden"`
}

// HostPort is a [host, port] pair as LiteLLM writes Sentinel nodes; the
// port may be a number.
type HostPort []string

// RedisNode is one Redis Cluster startup node.
type RedisNode struct {
	Host string `yaml:"host,required"`
	Port int    `yaml:"port" max:"65535"`
}

// RetrySettings are the retry, cooldown and fallback keys LiteLLM reads
// from router_settings and from litellm_settings; Config.Retry merges
// the two. nil (or an absent list) means unset.
type RetrySettings struct {
	// NumRetries is the retries per call (default 2).
	NumRetries *int `yaml:"num_retries"`
	// RetryPolicy sets the retries per error class.
	RetryPolicy *RetryPolicy `yaml:"retry_policy"`
	// AllowedFails is the failures a deployment may have in a minute
	// before it cools down (default 3; the default cools by failure
	// rate instead).
	AllowedFails *int `yaml:"allowed_fails" max:"1000000"`
	// AllowedFailsPolicy sets AllowedFails per error class.
	AllowedFailsPolicy *AllowedFailsPolicy `yaml:"allowed_fails_policy"`
	// CooldownTime is how long a failing deployment sits out (default 5 s).
	CooldownTime *time.Duration `yaml:"cooldown_time" max:"8760h"`
	// Fallbacks, ContextWindowFallbacks and ContentPolicyFallbacks map a
	// model group to the groups tried after it fails (in general, for a
	// context window overflow, for a content policy refusal).
	Fallbacks              Fallbacks `yaml:"fallbacks"`
	ContextWindowFallbacks Fallbacks `yaml:"context_window_fallbacks"`
	ContentPolicyFallbacks Fallbacks `yaml:"content_policy_fallbacks"`
	// DefaultFallbacks are tried for a group without its own.
	DefaultFallbacks []string `yaml:"default_fallbacks"`
	// MaxFallbacks caps the fallback groups one call tries (default 5).
	MaxFallbacks *int `yaml:"max_fallbacks" max:"1000000"`
	// RetryBackoff is the first wait before retrying the same deployment,
	// doubling up to RetryBackoffMax (defaults 0.5 s and 8 s); llmedge's.
	RetryBackoff    *time.Duration `yaml:"retry_backoff_seconds" max:"8760h"`
	RetryBackoffMax *time.Duration `yaml:"retry_backoff_max_seconds" max:"8760h"`
	// MaxRetryWait caps the time one call waits between attempts,
	// Retry-After included (default 30 s); llmedge's.
	MaxRetryWait *time.Duration `yaml:"max_retry_wait_seconds" max:"8760h"`
}

// RetryPolicy is retry_policy: retries per error class (nil = the
// call's num_retries).
type RetryPolicy struct {
	BadRequestErrorRetries             *int `yaml:"BadRequestErrorRetries" max:"1000"`
	AuthenticationErrorRetries         *int `yaml:"AuthenticationErrorRetries" max:"1000"`
	TimeoutErrorRetries                *int `yaml:"TimeoutErrorRetries" max:"1000"`
	RateLimitErrorRetries              *int `yaml:"RateLimitErrorRetries" max:"1000"`
	ContentPolicyViolationErrorRetries *int `yaml:"ContentPolicyViolationErrorRetries" max:"1000"`
	InternalServerErrorRetries         *int `yaml:"InternalServerErrorRetries" max:"1000"`
}

// AllowedFailsPolicy is allowed_fails_policy: allowed failures per error
// class (nil = allowed_fails).
type AllowedFailsPolicy struct {
	BadRequestErrorAllowedFails             *int `yaml:"BadRequestErrorAllowedFails" max:"1000000"`
	AuthenticationErrorAllowedFails         *int `yaml:"AuthenticationErrorAllowedFails" max:"1000000"`
	TimeoutErrorAllowedFails                *int `yaml:"TimeoutErrorAllowedFails" max:"1000000"`
	RateLimitErrorAllowedFails              *int `yaml:"RateLimitErrorAllowedFails" max:"1000000"`
	ContentPolicyViolationErrorAllowedFails *int `yaml:"ContentPolicyViolationErrorAllowedFails" max:"1000000"`
	InternalServerErrorAllowedFails         *int `yaml:"InternalServerErrorAllowedFails" max:"1000000"`
}

// Fallbacks maps a model group to the groups tried after it, in order.
// It is read from LiteLLM's list of one-key mappings
// ([{"a": ["b", "c"]}]) or from a plain mapping.
type Fallbacks map[string][]string

// ConnectionPool is connection_pool (router_settings for every upstream
// host; litellm_params for one deployment, whose keys win). Zero = the
// pool's default, given in each comment.
type ConnectionPool struct {
	// MaxConnections per upstream host (default 16384).
	MaxConnections int `yaml:"max_connections" min:"1" max:"1048576"`
	// MaxConnectionWait for a free connection (default 5 s).
	MaxConnectionWait time.Duration `yaml:"max_connection_wait" max:"8760h"`
	// IdleTimeout of a kept-alive connection (default 90 s).
	IdleTimeout time.Duration `yaml:"idle_timeout" max:"8760h"`
	// ConnectTimeout for TCP connect and TLS handshake (default 10 s).
	ConnectTimeout time.Duration `yaml:"connect_timeout" max:"8760h"`
	// WriteTimeout to send one request (default 30 s).
	WriteTimeout time.Duration `yaml:"write_timeout" max:"8760h"`
	// ReadTimeout is the silence allowed while reading a non-stream body
	// (default 0: the call's timeout only).
	ReadTimeout time.Duration `yaml:"read_timeout" max:"8760h"`
}

// Retry returns the retry settings in force: each key from
// router_settings when given there, else from litellm_settings.
func (c *Config) Retry() RetrySettings {
	out := c.Router.RetrySettings
	v, lv := reflect.ValueOf(&out).Elem(), reflect.ValueOf(c.LiteLLM.RetrySettings)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			v.Field(i).Set(lv.Field(i))
		}
	}
	return out
}
