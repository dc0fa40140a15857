// Package limits owns the rate limits and the admission of calls
// against them. Three scopes may hold a call: the whole gateway
// (global), the caller's key, and the caller's memory user id. Each
// scope may limit requests per minute (rpm), tokens per minute (tpm:
// an estimate reserved at admission, settled with the upstream's usage
// once the answer is complete, tokens.go) and requests in flight
// (parallel).
//
// Minutes are fixed windows aligned on the wall clock (as LiteLLM's
// limiter): a window admits exactly rpm requests, and admits requests
// while its token count (spent + reserved) is below tpm (the request
// that crosses the line is the last one admitted in that window). The
// in-memory limiter is exact and allocation-free; redis.go shares the
// same counters across processes, redis_outage.go bounds a window
// through a Redis outage, counternames.go names the counters.
//
// It counts and admits only: it must not read settings (server hands
// it a Config), write answers (server turns a refused Verdict into its
// 429; Verdict.SetHeaders writes only the x-ratelimit-* headers), or
// know routes, keys' values and upstreams.
package limits
