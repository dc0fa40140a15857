package upstream

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/llmedge/llmedge/config"
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

// errClass is a failure kind of router_settings.retry_policy.
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

// allowedFailsPolicyKeys name the classes of
// router_settings.allowed_fails_policy.
var allowedFailsPolicyKeys = [...]string{
	classBadRequest:    "BadRequestErrorAllowedFails",
	classAuth:          "AuthenticationErrorAllowedFails",
	classTimeout:       "TimeoutErrorAllowedFails",
	classRateLimit:     "RateLimitErrorAllowedFails",
	classContentPolicy: "ContentPolicyViolationErrorAllowedFails",
	classInternal:      "InternalServerErrorAllowedFails",
}

var retryPolicyKeys = [...]string{
	classBadRequest:    "BadRequestErrorRetries",
	classAuth:          "AuthenticationErrorRetries",
	classTimeout:       "TimeoutErrorRetries",
	classRateLimit:     "RateLimitErrorRetries",
	classContentPolicy: "ContentPolicyViolationErrorRetries",
	classInternal:      "InternalServerErrorRetries",
}

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
	warnings           []string
}

// settingsReader looks a key up in router_settings, then litellm_settings.
type settingsReader struct {
	sections []map[string]any
	names    []string
	errs     config.Errors
}

func (s *settingsReader) get(key string) (any, string, bool) {
	for i, m := range s.sections {
		if v, ok := m[key]; ok && v != nil {
			return v, s.names[i] + "." + key, true
		}
	}
	return nil, "", false
}

func (s *settingsReader) fail(path, format string, args ...any) {
	s.errs = append(s.errs, &config.Error{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// toFloat reads an int/float/numeric string (config.Number).
func toFloat(v any) (float64, bool) { return config.Number(v) }

func (s *settingsReader) count(key string, def int) int {
	v, path, ok := s.get(key)
	if !ok {
		return def
	}
	f, ok := toFloat(v)
	if !ok || f < 0 || f != math.Trunc(f) || f > 1e6 {
		s.fail(path, "must be a whole number >= 0")
		return def
	}
	return int(f)
}

// classCounts reads a map of error class names (names[c] for class c)
// to whole numbers, like retry_policy; -1 for a class it does not name.
func (s *settingsReader) classCounts(key string, names []string, most float64) [numClasses]int {
	var out [numClasses]int
	for i := range out {
		out[i] = -1
	}
	v, path, ok := s.get(key)
	if !ok {
		return out
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		s.fail(path, "must be a map like {%s: 3}", names[classRateLimit])
	}
	for k, cv := range m {
		c := slices.Index(names, k)
		if c < 0 {
			s.fail(path+"."+k, "unknown error class (known: %s)", strings.Join(names, ", "))
			continue
		}
		f, ok := toFloat(cv)
		if !ok || f < 0 || f != math.Trunc(f) || f > most {
			s.fail(path+"."+k, "must be a whole number >= 0")
			continue
		}
		out[c] = int(f)
	}
	return out
}

func (s *settingsReader) seconds(key string, def time.Duration) time.Duration {
	v, path, ok := s.get(key)
	if !ok {
		return def
	}
	return secondsValue(v, path, def, &s.errs)
}

func secondsValue(v any, path string, def time.Duration, errs *config.Errors) time.Duration {
	f, ok := toFloat(v)
	if !ok || f < 0 || f > 365*24*3600 {
		*errs = append(*errs, &config.Error{Path: path, Msg: "must be a number of seconds >= 0"})
		return def
	}
	return time.Duration(f * float64(time.Second))
}

// groupMap reads LiteLLM's fallback shape: a list of one-key maps
// [{"a": ["b","c"]}] (a plain map is accepted too).
func (s *settingsReader) groupMap(key string) map[string][]string {
	v, path, ok := s.get(key)
	if !ok {
		return nil
	}
	out := make(map[string][]string)
	add := func(m map[string]any, p string) {
		for k, lv := range m {
			names, ok := stringList(lv)
			if !ok {
				s.fail(p+"."+k, "must be a list of model names")
				continue
			}
			out[k] = append(out[k], names...)
		}
	}
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				s.fail(fmt.Sprintf("%s[%d]", path, i), `must be a map {"model_name": ["fallback", ...]}`)
				continue
			}
			add(m, fmt.Sprintf("%s[%d]", path, i))
		}
	case map[string]any:
		add(x, path)
	default:
		s.fail(path, `must be a list like [{"model_name": ["fallback", ...]}]`)
	}
	return out
}

func stringList(v any) ([]string, bool) {
	switch x := v.(type) {
	case string:
		return []string{x}, true
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// newPolicy reads the router settings. Unknown values are config errors
// naming the key.
func newPolicy(cfg *config.Config) (policy, config.Errors) {
	s := &settingsReader{sections: []map[string]any{cfg.Router.Raw, cfg.LiteLLM.Raw}, names: []string{"router_settings", "litellm_settings"}}
	p := policy{}
	name := strings.TrimSpace(cfg.Router.RoutingStrategy)
	if name == "" {
		if v, ok := cfg.Router.Raw["routing_strategy"].(string); ok {
			name = strings.TrimSpace(v)
		}
	}
	switch name {
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
		s.fail("router_settings.routing_strategy", "unknown strategy %q (llmedge serves simple-shuffle, least-busy, latency-based-routing, usage-based-routing)", name)
	}
	p.numRetries = DefaultNumRetries
	switch {
	case cfg.Router.NumRetries != nil:
		p.numRetries = *cfg.Router.NumRetries
	case cfg.LiteLLM.NumRetries != nil:
		p.numRetries = *cfg.LiteLLM.NumRetries
	default:
		p.numRetries = s.count("num_retries", DefaultNumRetries)
	}
	p.retryPolicy = s.classCounts("retry_policy", retryPolicyKeys[:], 1000)
	p.allowedFails = s.count("allowed_fails", DefaultAllowedFails)
	p.allowedFailsPolicy = s.classCounts("allowed_fails_policy", allowedFailsPolicyKeys[:], 1e6)
	// LiteLLM's switch: an allowed_fails_policy, or an allowed_fails other
	// than its default, replaces the failure rate by failure counts.
	p.countFails = p.allowedFails != DefaultAllowedFails
	for _, n := range p.allowedFailsPolicy {
		p.countFails = p.countFails || n >= 0
	}
	router := &settingsReader{sections: []map[string]any{cfg.Router.Raw}, names: []string{"router_settings"}}
	p.timeout = router.seconds("timeout", DefaultTimeout)
	p.defaultMaxParallel = router.count("default_max_parallel_requests", 0)
	p.streamTimeout = router.seconds("stream_timeout", DefaultStreamTimeout)
	s.errs = append(s.errs, router.errs...)
	if p.timeout <= 0 {
		p.timeout = DefaultTimeout
	}
	if p.streamTimeout <= 0 {
		p.streamTimeout = DefaultStreamTimeout
	}
	p.cooldownTime = s.seconds("cooldown_time", DefaultCooldownTime)
	// llmedge extensions (router_settings or litellm_settings).
	p.backoff = s.seconds("retry_backoff_seconds", DefaultRetryBackoff)
	p.backoffMax = s.seconds("retry_backoff_max_seconds", DefaultRetryBackoffMax)
	p.maxRetryWait = s.seconds("max_retry_wait_seconds", DefaultMaxRetryWait)
	p.maxFallbacks = s.count("max_fallbacks", DefaultMaxFallbacks)
	p.fallbacks = s.groupMap("fallbacks")
	p.contextFB = s.groupMap("context_window_fallbacks")
	p.contentFB = s.groupMap("content_policy_fallbacks")
	if v, path, ok := s.get("default_fallbacks"); ok {
		names, ok := stringList(v)
		if !ok {
			s.fail(path, "must be a list of model names")
		}
		p.defaultFB = names
	}
	if v, ok := cfg.General.Raw["cookie_store_path"]; ok && v != nil {
		str, ok := v.(string)
		if !ok {
			s.fail("general_settings.cookie_store_path", "must be a file path")
		}
		p.cookieStore = str
	}
	return p, s.errs
}
