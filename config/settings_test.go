package config

import (
	"slices"
	"testing"
	"time"
)

// Every settings section is typed: numbers, durations (seconds or Go
// duration strings, the same everywhere), booleans, lists and nested
// shapes come out of one decoder.
func TestTypedSettings(t *testing.T) {
	cfg := mustParse(t, `
general_settings:
  master_key: sk-1234
  api_keys:
    - {key: os.environ/TEAM_KEY, name: team, models: [a, b], rpm_limit: 600, tpm_limit: "200000", max_parallel_requests: 4}
    - {key: sk-other-key-1, user_id: u1, models: []}
  global_max_parallel_requests: 1_000
  metrics_require_auth: "yes"
  stream_keepalive_seconds: 500ms
  max_request_size_mb: 0.5
  cors_allow_origins: "https://a.example, https://b.example"
  http_read_timeout: 30
  http_idle_timeout: 1m
  http_write_timeout: "2.5"
  max_header_bytes: 0x8000
litellm_settings:
  request_timeout: 90s
  num_retries: 1
  cooldown_time: 9
  fallbacks: [{a: [b]}, {a: [c]}, {x: y}]
router_settings:
  routing_strategy: " least-busy "
  timeout: 12
  stream_timeout: 1m30s
  redis_host: cache
  redis_port: "6390"
  redis_password: 1234
  retry_policy: {RateLimitErrorRetries: 5}
  connection_pool: {max_connections: 8, idle_timeout: 45s}
  cooldown_time: 2s
  max_retry_wait_seconds: 0
`, map[string]string{"TEAM_KEY": "sk-team-key-123"})
	g := cfg.General
	if len(g.APIKeys) != 2 || g.APIKeys[0].Key != "sk-team-key-123" || g.APIKeys[0].TPMLimit != 200000 ||
		!slices.Equal(g.APIKeys[0].Models, []string{"a", "b"}) || g.APIKeys[1].Models == nil || len(g.APIKeys[1].Models) != 0 || g.APIKeys[1].UserID != "u1" {
		t.Errorf("api_keys: %+v", g.APIKeys)
	}
	if g.GlobalMaxParallelRequests != 1000 || !g.MetricsRequireAuth || g.StreamKeepalive != 500*time.Millisecond || g.MaxRequestSizeMB != 0.5 ||
		!slices.Equal(g.CORSAllowOrigins, []string{"https://a.example", "https://b.example"}) || g.HTTPReadTimeout != 30*time.Second ||
		g.HTTPIdleTimeout != time.Minute || g.HTTPWriteTimeout != 2500*time.Millisecond || g.MaxHeaderBytes != 0x8000 {
		t.Errorf("general: %+v", g)
	}
	r := cfg.Router
	if r.RoutingStrategy != "least-busy" || r.Timeout != 12*time.Second || r.StreamTimeout != 90*time.Second || r.RedisHost != "cache" ||
		r.RedisPort != 6390 || r.RedisPassword != "1234" || *r.RetryPolicy.RateLimitErrorRetries != 5 || r.RetryPolicy.TimeoutErrorRetries != nil ||
		*r.ConnectionPool != (ConnectionPool{MaxConnections: 8, IdleTimeout: 45 * time.Second}) {
		t.Errorf("router: %+v", r)
	}
	if cfg.LiteLLM.RequestTimeout != 90*time.Second {
		t.Errorf("request_timeout: %v", cfg.LiteLLM.RequestTimeout)
	}
	// router_settings wins key by key; litellm_settings fills the rest.
	rs := cfg.Retry()
	if *rs.CooldownTime != 2*time.Second || *rs.NumRetries != 1 || *rs.MaxRetryWait != 0 || rs.RetryPolicy == nil ||
		!slices.Equal(rs.Fallbacks["a"], []string{"b", "c"}) || !slices.Equal(rs.Fallbacks["x"], []string{"y"}) {
		t.Errorf("retry: %+v", rs)
	}
	if len(cfg.Ignored) != 0 {
		t.Errorf("ignored: %q", cfg.Ignored)
	}
}

// A bad value is an error naming the key and saying what was wanted,
// in every section alike.
func TestSettingsErrorsNameTheKey(t *testing.T) {
	tests := []struct{ src, path, msg string }{
		{"router_settings: {cooldown_time: abc}", "router_settings.cooldown_time", `want a duration (seconds or "30s"), got "abc"`},
		{"router_settings: {cooldown_time: -1s}", "router_settings.cooldown_time", `got "-1s"`},
		{"router_settings: {timeout: 9000h}", "router_settings.timeout", "at most 8760h"},
		{"router_settings: {redis_port: 70000}", "router_settings.redis_port", "want a whole number from 0 to 65535, got 70000"},
		{"router_settings: {connection_pool: {max_connections: 0}}", "router_settings.connection_pool.max_connections", "from 1 to"},
		{"router_settings: {connection_pool: {max_conns: 1}}", "router_settings.connection_pool.max_conns", "unknown key (known: connect_timeout, "},
		{"router_settings: {retry_policy: {NopeErrorRetries: 1}}", "router_settings.retry_policy.NopeErrorRetries", "unknown key"},
		{"router_settings: {retry_policy: {TimeoutErrorRetries: 1001}}", "router_settings.retry_policy.TimeoutErrorRetries", "1000"},
		{"router_settings: {fallbacks: a}", "router_settings.fallbacks", "want a list like"},
		{"router_settings: {fallbacks: [a]}", "router_settings.fallbacks[0]", "want a mapping"},
		{"router_settings: {fallbacks: [{a: [1]}]}", "router_settings.fallbacks[0].a[0]", "non-empty string"},
		{"litellm_settings: {default_fallbacks: [a, '']}", "litellm_settings.default_fallbacks[1]", "non-empty string"},
		{"general_settings: {stream_keepalive_seconds: abc}", "general_settings.stream_keepalive_seconds", "want a duration"},
		{"general_settings: {stream_keepalive_seconds: 7200}", "general_settings.stream_keepalive_seconds", "at most 1h0m0s"},
		{"general_settings: {metrics_require_auth: maybe}", "general_settings.metrics_require_auth", `want true or false, got "maybe"`},
		{"general_settings: {max_request_size_mb: []}", "general_settings.max_request_size_mb", "want a number >= 0, got a list"},
		{"general_settings: {cors_allow_origins: 7}", "general_settings.cors_allow_origins", "want a list"},
		{"general_settings: {api_keys: {key: x}}", "general_settings.api_keys", "want a list"},
		{"general_settings: {api_keys: [{name: n}]}", "general_settings.api_keys[0].key", "missing"},
		{"general_settings: {api_keys: [null]}", "general_settings.api_keys[0]", "want a mapping"},
		{"general_settings: {api_keys: [{key: k, user_id: ''}]}", "general_settings.api_keys[0].user_id", "non-empty"},
		{"general_settings: {api_keys: [{key: k, user_id: os.environ/NOPE}]}", "general_settings.api_keys[0].user_id", "NOPE is not set"},
		{"general_settings: {api_keys: [{key: k, models: [a, [b]]}]}", "general_settings.api_keys[0].models[1]", "got a list"},
		{"general_settings: {max_connections_per_ip: 1.5}", "general_settings.max_connections_per_ip", "whole number"},
	}
	for _, tt := range tests {
		wantErr(t, parseErrs(t, tt.src+"\n", nil), tt.path, tt.msg)
	}
}

// The known keys come from the struct tags: a key llmedge acts on is
// never reported as ignored, one it does not know always is.
func TestKnownKeysDeriveFromTheStructs(t *testing.T) {
	cfg := mustParse(t, `
general_settings: {max_request_body_in_flight_mb: 64, http_write_timeout: 5, alerting: [slack]}
litellm_settings: {set_verbose: true, retry_backoff_seconds: 1, timeout: 5}
router_settings: {redis_db: 1, default_max_parallel_requests: 2, model_group_alias: {}, enable_pre_call_checks: true}
`, nil)
	want := []string{"general_settings.alerting", "litellm_settings.timeout", "router_settings.enable_pre_call_checks"}
	if !slices.Equal(cfg.Ignored, want) {
		t.Errorf("Ignored = %q, want %q", cfg.Ignored, want)
	}
	for _, section := range []string{"litellm_settings", "router_settings"} {
		if !sectionKeys[section]["num_retries"] || !sectionKeys[section]["allowed_fails_policy"] {
			t.Errorf("%s lacks the inline retry keys: %v", section, sectionKeys[section])
		}
	}
}
