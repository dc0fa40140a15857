package upstream

import (
	"cmp"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/provider"
)

// Router defaults. LiteLLM's where LiteLLM has one, so a config moved
// from LiteLLM behaves the same; llmedge's own otherwise.
const (
	// DefaultNumRetries: LiteLLM's router default (the OpenAI SDK's
	// DEFAULT_MAX_RETRIES): three attempts in all.
	DefaultNumRetries = 2
	// DefaultAllowedFails is LiteLLM's allowed_fails. Left at it (or
	// unset) a deployment cools down by its failure rate (cooldown.go);
	// any other value counts failures instead, as LiteLLM does.
	DefaultAllowedFails = 3
	// DefaultCooldownTime is how long a deployment sits out after too
	// many failures (LiteLLM: 5 s). Short: long enough for the rest of
	// the group to absorb its traffic, short enough that a deployment
	// that recovered is used again almost at once.
	DefaultCooldownTime = 5 * time.Second
	// DefaultMaxFallbacks caps the fallback groups one call tries
	// (LiteLLM: 5).
	DefaultMaxFallbacks = 5
	// DefaultRetryBackoff is the first backoff before retrying the same
	// deployment; it doubles per retry up to DefaultRetryBackoffMax
	// (the OpenAI SDKs use 0.5 s and 8 s). A retry on another
	// deployment of the group does not wait.
	DefaultRetryBackoff    = 500 * time.Millisecond
	DefaultRetryBackoffMax = 8 * time.Second
	// DefaultMaxRetryWait caps the total time one call spends waiting
	// between attempts, Retry-After included. A Retry-After beyond it is
	// not waited for: the client gets the error with the Retry-After and
	// can decide itself. 30 s rides out the usual 429s (1-20 s) while a
	// client with the OpenAI SDK's 600 s timeout is nowhere near its own.
	DefaultMaxRetryWait = 30 * time.Second
	// maxNotBefore bounds how long one Retry-After keeps a deployment
	// out of every pick (a stale or absurd header must not disable a
	// deployment for an hour).
	maxNotBefore = 60 * time.Second
)

// strategy is router_settings.routing_strategy.
type strategy uint8

const (
	simpleShuffle strategy = iota
	leastBusy
	latencyBased
	usageBased
)

// errClass is a failure kind of router_settings.retry_policy, in the
// order of config.RetryPolicy's and config.AllowedFailsPolicy's fields.
type errClass uint8

const (
	classBadRequest errClass = iota
	classAuth
	classTimeout
	classRateLimit
	classContentPolicy
	classInternal
	classOther
	numClasses
)

// policy is the router configuration, read once from router_settings
// (winning) and litellm_settings.
type policy struct {
	strategy   strategy
	numRetries int
	// retryPolicy[c] is the retry count for class c; -1 = unset.
	retryPolicy [numClasses]int
	// allowedFails and allowedFailsPolicy (per class, -1 = unset) are
	// used when countFails: failures are counted, not rated (cooldown.go).
	allowedFails       int
	allowedFailsPolicy [numClasses]int
	countFails         bool
	cooldownTime       time.Duration
	backoff            time.Duration
	backoffMax         time.Duration
	maxRetryWait       time.Duration
	maxFallbacks       int
	fallbacks          map[string][]string
	defaultFB          []string
	contextFB          map[string][]string
	contentFB          map[string][]string
	cookieStore        string
	// timeout and streamTimeout apply to deployments without their own
	// (router_settings.timeout / stream_timeout, else the defaults).
	timeout       time.Duration
	streamTimeout time.Duration
	// defaultMaxParallel caps the calls in flight on a deployment
	// without its own max_parallel_requests (0 = no cap).
	defaultMaxParallel int
	// repeatLimit ends a stream repeating one text chunk
	// (litellm_settings.REPEATED_STREAMING_CHUNK_LIMIT; 0 = off).
	repeatLimit int
	warnings    []string
}

// newPolicy turns the typed router settings into the router's policy.
// Config type-checked every value; what is left are the checks only the
// router can make (strategy names).
func newPolicy(cfg *config.Config) (policy, config.Errors) {
	var errs config.Errors
	p := policy{}
	switch name := strings.TrimSpace(cfg.Router.RoutingStrategy); name {
	case "", "simple-shuffle":
		p.strategy = simpleShuffle
	case "least-busy":
		p.strategy = leastBusy
	case "latency-based-routing":
		p.strategy = latencyBased
	case "usage-based-routing", "usage-based-routing-v2":
		p.strategy = usageBased
	case "cost-based-routing", "provider-budget-routing":
		// LiteLLM strategies that need cost data llmedge does not keep.
		p.strategy = simpleShuffle
		p.warnings = append(p.warnings, fmt.Sprintf("router_settings.routing_strategy %q is not served by llmedge; using simple-shuffle", name))
	default:
		errs = append(errs, &config.Error{Path: "router_settings.routing_strategy", Msg: fmt.Sprintf("unknown strategy %q (llmedge serves simple-shuffle, least-busy, latency-based-routing, usage-based-routing)", name)})
	}
	rs := cfg.Retry()
	p.numRetries = or(rs.NumRetries, DefaultNumRetries)
	p.retryPolicy = classCounts(rs.RetryPolicy)
	p.allowedFails = or(rs.AllowedFails, DefaultAllowedFails)
	p.allowedFailsPolicy = classCounts(rs.AllowedFailsPolicy)
	// LiteLLM's switch: an allowed_fails_policy, or an allowed_fails other
	// than its default, replaces the failure rate by failure counts.
	p.countFails = p.allowedFails != DefaultAllowedFails
	for _, n := range p.allowedFailsPolicy {
		p.countFails = p.countFails || n >= 0
	}
	p.timeout = cmp.Or(cfg.Router.Timeout, DefaultTimeout)
	p.streamTimeout = cmp.Or(cfg.Router.StreamTimeout, DefaultStreamTimeout)
	p.defaultMaxParallel = cfg.Router.DefaultMaxParallelRequests
	p.repeatLimit = or(cfg.LiteLLM.RepeatedStreamingChunkLimit, provider.DefaultRepeatLimit)
	p.cooldownTime = or(rs.CooldownTime, DefaultCooldownTime)
	p.backoff = or(rs.RetryBackoff, DefaultRetryBackoff)
	p.backoffMax = or(rs.RetryBackoffMax, DefaultRetryBackoffMax)
	p.maxRetryWait = or(rs.MaxRetryWait, DefaultMaxRetryWait)
	p.maxFallbacks = or(rs.MaxFallbacks, DefaultMaxFallbacks)
	p.fallbacks = rs.Fallbacks
	p.contextFB = rs.ContextWindowFallbacks
	p.contentFB = rs.ContentPolicyFallbacks
	p.defaultFB = rs.DefaultFallbacks
	p.cookieStore = cfg.General.CookieStorePath
	return p, errs
}

// or returns *v, or def when v is nil.
func or[T any](v *T, def T) T {
	if v == nil {
		return def
	}
	return *v
}

// classCounts lays a per-class policy (config.RetryPolicy or
// config.AllowedFailsPolicy, whose fields follow errClass order) out by
// class; -1 for a class it does not set.
func classCounts[P config.RetryPolicy | config.AllowedFailsPolicy](policy *P) [numClasses]int {
	var out [numClasses]int
	for i := range out {
		out[i] = -1
	}
	if policy == nil {
		return out
	}
	v := reflect.ValueOf(policy).Elem()
	for c := range v.NumField() {
		if n := v.Field(c).Interface().(*int); n != nil {
			out[c] = *n
		}
	}
	return out
}
