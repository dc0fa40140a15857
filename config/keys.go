package config

// The key sets below decide what lands in Config.Ignored. They list the
// keys llmedge ACTS ON (directly here, or through the Raw maps in other
// packages); every other key of those sections is reported as ignored so
// that operators see which LiteLLM features their file asks for that
// llmedge does not provide. To support a new setting, add its key here.

// topLevelSections are the top-level keys llmedge reads. Any other
// top-level key is reported as ignored.
var topLevelSections = set(
	"model_list",
	"general_settings",
	"litellm_settings",
	"router_settings",
	"user_id_mappings",
	"environment_variables",
	"include",
)

// actedOnKeys maps a settings section to the keys of it llmedge uses.
// Sections listed here have their other keys reported as ignored.
var actedOnKeys = map[string]map[string]bool{
	"general_settings": set(
		"master_key",
		"api_keys",
		"max_parallel_requests",
		"global_max_parallel_requests",
		"metrics_require_auth",
		"stream_keepalive_seconds",
		"max_request_size_mb",
		"cors_allow_origins",
		"cookie_store_path", // llmedge: upstream cookie store file
		// server/settings.go (keys, limits, hostile clients)
		"user_rpm_limit",
		"user_tpm_limit",
		"user_max_parallel_requests",
		"http_read_timeout",
		"http_idle_timeout",
		"max_header_bytes",
		"max_connections_per_ip",
	),
	"litellm_settings": set(
		"cache",        // server/cache (cache_params' own keys are checked there)
		"cache_params", //
		"drop_params",
		"num_retries",
		"request_timeout",
		"json_logs",
		"fallbacks",
		"default_fallbacks",
		"context_window_fallbacks",
		"content_policy_fallbacks",
		"max_fallbacks",
		"set_verbose",
		"allowed_fails",
		"cooldown_time",
		"retry_policy",
		"allowed_fails_policy",
		// llmedge extensions (router_settings wins).
		"retry_backoff_seconds",
		"retry_backoff_max_seconds",
		"max_retry_wait_seconds",
	),
	"router_settings": set(
		"routing_strategy",
		"num_retries",
		"timeout",
		"retry_policy",
		"allowed_fails",
		"allowed_fails_policy",
		"cooldown_time",
		"fallbacks",
		"default_fallbacks",
		"context_window_fallbacks",
		"content_policy_fallbacks",
		"max_fallbacks",
		"redis_host",
		"redis_port",
		"redis_password",
		"redis_url",
		"stream_timeout",
		// llmedge extensions.
		"retry_backoff_seconds",
		"retry_backoff_max_seconds",
		"max_retry_wait_seconds",
		"connection_pool",
		"redis_username",
		"redis_db",
		"default_max_parallel_requests",
	),
}

// deploymentKeys are the keys of a model_list entry llmedge reads. Other
// keys are reported as ignored under "model_list[].<key>" (one path per
// key, not per entry). litellm_params and model_info keys are never
// reported: they all land in Deployment.Params / ModelInfo.
var deploymentKeys = set(
	"model_name",
	"litellm_params",
	"model_info",
	// LiteLLM's router also reads rpm/tpm beside litellm_params.
	"rpm",
	"tpm",
)

// userIDMappingKeys and headerPatternKeys are closed sets: an unknown key
// in user_id_mappings is an error, because a typo there silently changes
// which memory a user gets.
var (
	userIDMappingKeys = set("custom_header", "header_patterns", "default_user_id")
	headerPatternKeys = set("header", "pattern", "user_id")
)

func set(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}
