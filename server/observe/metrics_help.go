package observe

import "bytes"

// metricHelp is the # HELP text of each metric family llmedge exposes.
// The metrics library writes every HELP line empty; handleMetrics fills
// them in from here at scrape time (never on the request path). A family
// missing here keeps an empty HELP line (server's TestEveryLlmedgeMetricHasHelp fails on an
// llmedge_ one).
var metricHelp = map[string]string{
	"llmedge_build_info":                                   "llmedge's version, as a label on a constant 1.",
	"llmedge_requests_in_flight":                           "Client requests being served, streams included.",
	"llmedge_streams_open":                                 "SSE answers being relayed to clients.",
	"llmedge_requests_total":                               "Finished client requests by status class and whether the client asked for a stream.",
	"llmedge_request_duration_seconds":                     "Time from reading a request to its last byte written.",
	"llmedge_ttfb_seconds":                                 "Time from reading a request until llmedge held the answer's first byte.",
	"llmedge_overhead_seconds":                             "llmedge's own time per request: total minus waiting on the upstream, on the client and between retry attempts.",
	"llmedge_rejected_requests_total":                      "Requests refused before any upstream call, by reason.",
	"llmedge_rate_limited_total":                           "Requests refused by a rate limit, by the limit that refused them.",
	"llmedge_upstream_attempts_total":                      "Calls made to a deployment, retries included.",
	"llmedge_upstream_retries_total":                       "Calls to a deployment that were retries of a failed attempt.",
	"llmedge_deployment_cooldowns_total":                   "Times a deployment was put in cooldown after failures.",
	"llmedge_fallbacks_total":                              "Requests passed from a model group to its fallback group.",
	"llmedge_stream_errors_total":                          "Streams that ended badly after their 200, by cause (upstream, client_gone, shutdown).",
	"llmedge_prompt_tokens_total":                          "Prompt tokens reported by upstreams, by model and key name.",
	"llmedge_completion_tokens_total":                      "Completion tokens reported by upstreams, by model and key name.",
	"llmedge_cost_usd_total":                               "Spend in USD: tokens (cached and reasoning tokens at their own prices) times the deployment's price from the built-in table, model_info or litellm_params, by model and key name.",
	"llmedge_config_reloads_total":                         "Config reloads by result.",
	"llmedge_config_last_reload_success_timestamp_seconds": "Unix time the config in force was loaded.",
	"llmedge_deployment_in_flight":                         "Calls in flight to a deployment.",
	"llmedge_cache_requests_total":                         "Cacheable requests by what the response cache did (x-llmedge-cache: hit, miss, bypass).",
	"llmedge_cache_coalesced_total":                        "Requests that shared an identical request's upstream call in flight (counted as hits).",
	"llmedge_cache_served_bytes_total":                     "Answer bytes served from the response cache.",
	"llmedge_cache_saved_tokens_total":                     "Upstream tokens (prompt + completion) the stored answers served from the cache had cost.",
	"llmedge_cache_stores_total":                           "Answers written to the response cache's store.",
	"llmedge_cache_store_errors_total":                     "Failed reads and writes of the response cache's store (each one a bypass, never a failed request).",
	"llmedge_cache_bytes":                                  "Bytes the local or disk response cache holds.",
	"llmedge_cache_up":                                     "1 when the response cache's store works, 0 while requests bypass it.",
	"llmedge_deployment_available":                         "1 if a deployment can take calls now, 0 if it is cooling down or unusable.",
	"llmedge_request_body_bytes_in_flight":                 "Bytes of large request bodies held now (bounded by max_request_body_in_flight_mb).",
	"llmedge_answer_write_timeouts_total":                  "Answers cut because a write to the client blocked for http_write_timeout.",
	"llmedge_deployment_healthy":                           "1 if a deployment's last health probe succeeded, 0 if it failed (only deployments probed since the config was loaded).",
	"llmedge_health_probe_duration_seconds":                "Time a deployment's last health probe took.",
	"llmedge_health_probe_timestamp_seconds":               "Unix time of a deployment's last health probe.",
	"llmedge_health_probes_total":                          "Health probes of a deployment (GET /health?model= and background checks), by method: models (a GET of the provider's models), call (a 1-token call), none (not sent: the deployment is unusable).",
	"llmedge_health_probe_failures_total":                  "Failed health probes of a deployment, by class: unavailable, timeout, unreachable, tls, proxy, bad_response, auth, not_found, rate_limited, client_error, server_error, other.",
	"process_open_fds":                                     "Open file descriptors (sockets included).",
	"process_max_fds":                                      "The limit on open file descriptors (RLIMIT_NOFILE).",
}

var helpPrefix = []byte("# HELP ")

// appendWithHelp appends the exposition src to dst with every empty
// "# HELP name" line given its text from metricHelp.
func appendWithHelp(dst, src []byte) []byte {
	for len(src) > 0 {
		line := src
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			line = src[:i+1]
		}
		src = src[len(line):]
		if bytes.HasPrefix(line, helpPrefix) {
			name := bytes.TrimRight(line[len(helpPrefix):], "\n")
			if text, ok := metricHelp[string(name)]; ok && bytes.IndexByte(name, ' ') < 0 {
				dst = append(dst, helpPrefix...)
				dst = append(dst, name...)
				dst = append(dst, ' ')
				dst = append(dst, text...)
				dst = append(dst, '\n')
				continue
			}
		}
		dst = append(dst, line...)
	}
	return dst
}

// AppendMetadata appends the HELP and TYPE lines of a family written by
// hand (writeDeploymentGauges, the server's cache series).
func AppendMetadata(b []byte, name, typ string) []byte { return appendMetadata(b, name, typ) }

func appendMetadata(b []byte, name, typ string) []byte {
	b = append(b, "# HELP "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, metricHelp[name]...)
	b = append(b, "\n# TYPE "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, typ...)
	return append(b, '\n')
}
