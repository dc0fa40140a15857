package config

import (
	"maps"
	"slices"
	"strings"
)

// Keys a file may set that llmedge reads but does not act on are each
// reported as a warning naming the key and what llmedge does instead
// (Config.IgnoredWarnings); --strict makes them startup errors. This is
// the one explicit list of such keys: a key llmedge knows about gets its
// consequence here, any other ignored key a generic message, with a
// "did you mean" when it is one typo away from a key llmedge reads.

const (
	noDatabase  = "not acted on: llmedge sizes and times its own pool for the key database (database_url: keys, budgets and spend)"
	noModelInDB = "true is not acted on: models come from this file only; llmedge neither stores nor reads models in the database (database_url holds keys, budgets and spend)"
	noCallbacks = "no callbacks or loggers run: the access log and /metrics are llmedge's telemetry"
	noCache     = "not acted on: the response cache is set by litellm_settings.cache and cache_params"
	noSection   = "not a section llmedge reads; ignored"
)

// insteadOf says, per ignored key path, what llmedge does instead. A
// path of a model_list entry is written "model_list[].key".
var insteadOf = map[string]string{
	"general_settings.database_connection_pool_limit":      noDatabase,
	"general_settings.database_connection_timeout":         noDatabase,
	"general_settings.store_model_in_db":                   noModelInDB,
	"general_settings.store_prompts_in_spend_logs":         "prompts are never stored: a spend log row holds the model, tokens, cost and times",
	"general_settings.proxy_batch_write_at":                "spend is written every 500 ms (docs/keys.md)",
	"general_settings.maximum_spend_logs_retention_period": "spend logs are kept until deleted: llmedge does not prune them",
	"general_settings.disable_error_logs":                  "llmedge writes no error logs to the database, only spend logs",
	"general_settings.proxy_budget_rescheduler_max_time":   "a budget resets as soon as its budget_duration ends: there is no rescheduler to tune",
	"general_settings.proxy_budget_rescheduler_min_time":   "a budget resets as soon as its budget_duration ends: there is no rescheduler to tune",
	"general_settings.custom_auth":                         "only master_key and api_keys authenticate; the custom auth module is not run",
	"general_settings.pass_through_endpoints":              "pass-through endpoints are not served (404)",
	"general_settings.enable_admin_ui":                     "there is no admin UI",
	"general_settings.allow_user_auth":                     "there is no user login: only master_key and api_keys authenticate",
	"general_settings.host":                                "the listen address is --host (env LLMEDGE_HOST)",
	"general_settings.port":                                "the port is --port (env PORT)",
	"general_settings.json_logs":                           "JSON logs are litellm_settings.json_logs (or JSON_LOGS=true)",
	"general_settings.log_level":                           "the log level is --log-level (env LLMEDGE_LOG_LEVEL or LITELLM_LOG)",
	"general_settings.enable_cors":                         "CORS is general_settings.cors_allow_origins",
	"general_settings.allowed_origins":                     "CORS is general_settings.cors_allow_origins",
	"general_settings.user_header_name":                    "user ids come from user_id_mappings",
	"general_settings.user_header_mappings":                "user ids come from user_id_mappings",
	"general_settings.alerting":                            "no alerts are sent",
	"litellm_settings.cache":                               noCache,
	"litellm_settings.cache_params":                        noCache,
	"router_settings.cache_responses":                      noCache,
	"cache_config":                                         noCache,
	"litellm_settings.callbacks":                           noCallbacks,
	"litellm_settings.success_callback":                    noCallbacks,
	"litellm_settings.failure_callback":                    noCallbacks,
	"litellm_settings.service_callback":                    noCallbacks,
	"general_settings.use_langfuse":                        noCallbacks,
	"litellm_settings.forward_client_headers_to_llm_api":   "client headers are not forwarded upstream (docs/security.md lists what is sent)",
	"general_settings.forward_client_headers_to_llm_api":   "client headers are not forwarded upstream (docs/security.md lists what is sent)",
	"litellm_settings.modify_params":                       "requests are not rewritten to fit a provider (only drop_params applies)",
	"litellm_settings.turn_off_message_logging":            "llmedge never logs messages",
	"litellm_settings.log_level":                           "the log level is --log-level (env LLMEDGE_LOG_LEVEL or LITELLM_LOG)",
	"litellm_settings.default_model":                       "a request must name a model group",
	"router_settings.default_model":                        "a request must name a model group",
	"router_settings.enable_pre_call_checks":               "no pre-call context-window check: an oversized request fails upstream (context_window_fallbacks still apply)",
	"router_settings.retry_after":                          "retries wait retry_backoff_seconds, or the upstream's Retry-After",
	"router_settings.max_retries":                          "retries are num_retries",
	"router_settings.enable_cooldowns":                     "cooldowns are always on (cooldown_time, allowed_fails)",
	"router_settings.enable_load_balancing":                "load balancing is always on (routing_strategy)",
	"litellm_settings.custom_provider_map":                 "custom Python providers are not run: their deployments load as unavailable",
	"guardrails":                                           "no guardrails run",
	"litellm_settings.guardrails":                          "no guardrails run",
	"health_check":                                         noSection,
	"model_list[].tags":                                    "tag-based routing is not done",
}

// IgnoredWarning is the warning for one ignored key path.
func IgnoredWarning(path string) string {
	what := insteadOf[path]
	if what == "" {
		what = "not acted on; llmedge behaves as if it were absent"
		if !strings.Contains(path, ".") && !strings.Contains(path, "[") {
			what = noSection
		}
		if s := didYouMean(path); s != "" {
			what += "; did you mean " + s + "?"
		}
	}
	return path + ": " + what
}

// IgnoredWarnings returns one warning per key of the file llmedge does
// not act on, in path order.
func (c *Config) IgnoredWarnings() []string {
	out := make([]string, 0, len(c.Ignored))
	for _, p := range c.Ignored {
		if k, ok := strings.CutPrefix(p, paramsPath("")); ok {
			out = append(out, paramWarning(k, c.ignoredIn[p]))
			continue
		}
		out = append(out, IgnoredWarning(p))
	}
	return out
}

// didYouMean returns the key of the same section closest to path's last
// part when it is a likely typo of it ("model_lists" → "model_list").
func didYouMean(path string) string {
	section, key := "", path
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		section, key = path[:i], path[i+1:]
	}
	known := map[string]bool{}
	switch {
	case section == "":
		known = topLevelSections
	case section == "model_list[]":
		maps.Copy(known, deploymentKeys)
		known["litellm_params"], known["model_info"] = true, true
	default:
		known = sectionKeys[section]
	}
	best := closest(key, known)
	if best == "" || section == "" {
		return best
	}
	return section + "." + best
}

// closest returns the key of known within a typo or two of key (the
// nearest; the first in order on a tie), or "".
func closest(key string, known map[string]bool) string {
	keys := slices.Sorted(maps.Keys(known))
	best, bestD := "", 3
	for _, k := range keys {
		limit := min(2, max(1, len(k)/4))
		if d := editDistance(strings.ToLower(key), k); d <= limit && d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
