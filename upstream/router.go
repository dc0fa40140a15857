// The router: how llmedge picks a deployment, retries, cools down and
// falls back. Settings (router_settings wins over litellm_settings for
// every key both may hold):
//
//	routing_strategy     simple-shuffle (default; by weight, else rpm,
//	                     else tpm, else uniform), least-busy (fewest
//	                     calls in flight), latency-based-routing (lowest
//	                     moving-average time to first byte; unmeasured
//	                     deployments first), usage-based-routing (most
//	                     rpm/tpm headroom this minute). A deployment at
//	                     its rpm/tpm (litellm_params or model_list entry)
//	                     is skipped under every strategy.
//	num_retries          retries per model group (default 2).
//	                     litellm_params.max_retries caps how often one
//	                     deployment is tried again within one call.
//	retry_policy         per error class: BadRequestErrorRetries,
//	                     AuthenticationErrorRetries, TimeoutErrorRetries,
//	                     RateLimitErrorRetries, InternalServerErrorRetries,
//	                     ContentPolicyViolationErrorRetries. Without it
//	                     only 408/429/5xx/529, connection errors and
//	                     timeouts are retried.
//	allowed_fails,       unset (or LiteLLM's default 3): a deployment cools
//	allowed_fails_policy down when >50% of >=5 calls this minute failed
//	                     (cooldown.go). Set: failures per minute per error
//	                     class it may have; one more cools it down.
//	cooldown_time        seconds a deployment sits out (default 5). A
//	                     group's only deployment never does.
//	fallbacks, default_fallbacks, context_window_fallbacks,
//	content_policy_fallbacks, max_fallbacks (default 5): LiteLLM's shapes.
//	timeout, stream_timeout (router_settings only): defaults for
//	                     deployments without their own.
//
// llmedge extensions (router_settings or litellm_settings):
//
//	retry_backoff_seconds      first backoff before retrying the SAME
//	                           deployment (default 0.5; doubles, jitter
//	                           draws from [d/2, d]). Retrying another
//	                           deployment does not wait.
//	retry_backoff_max_seconds  cap of one backoff (default 8).
//	max_retry_wait_seconds     cap of all waits of one call, Retry-After
//	                           included (default 30). A longer Retry-After
//	                           is handed to the client instead.
//	connection_pool            see poolconfig.go.
//
// and general_settings.cookie_store_path: file that keeps the upstream
// cookie store (transport/cookies.go) across restarts; default none (memory only).

package upstream

import "github.com/llmedge/llmedge/config"

// route is Registry.Chat: the retry loop on the requested group, then on
// its fallback groups in order (at most max_fallbacks of them). Attempts
// and the answering deployment are counted across all of them in out.
// When every group failed the client gets the first group's error: it
// names the model the client asked for.
func (reg *Registry) route(g *Group, req *ChatRequest, out *Response) *Error {
	var cs callState
	first := reg.tryGroup(g, req, out, &cs)
	if first == nil {
		return nil
	}
	if first.Status == 499 || req.Cancel.Canceled() {
		return first
	}
	var list []string
	if req.Route.HasBody() {
		// A request by id (a stored response) lives with one provider:
		// no other group has it.
		list = reg.policy.fallbacksFor(g.Name, first)
	}
	if len(list) == 0 {
		return finalError(first)
	}
	// On failure the client gets the first group's error; the
	// deployment it names is the one that gave it.
	firstDep := out.Deployment
	var gbuf [4]*Group
	tried := append(gbuf[:0], g)
	model := req.Model
	defer func() { req.Model = model }()
	used := 0
	for _, name := range list {
		if used >= reg.policy.maxFallbacks {
			break
		}
		fg := reg.Group(name)
		// A /v1/messages call goes to any group: where Anthropic's
		// format is not spoken it is translated (messages_chat.go).
		if fg == nil || containsGroup(tried, fg) || !fg.Serves(req.Route) {
			continue
		}
		tried = append(tried, fg)
		used++
		// The fallback group sees its own name as the requested model
		// (wildcard groups take their upstream id from it).
		req.Model = []byte(name)
		reg.observeFallback(g, fg)
		err := reg.tryGroup(fg, req, out, &cs)
		if err == nil {
			return nil
		}
		if err.Status == 499 || req.Cancel.Canceled() {
			return err
		}
	}
	out.Deployment = firstDep
	return finalError(first)
}

func containsGroup(gs []*Group, g *Group) bool {
	for _, x := range gs {
		if x == g {
			return true
		}
	}
	return false
}

// finalError makes an error fit for the client.
func finalError(e *Error) *Error {
	if len(e.RetryAfter) > 0 {
		e.RetryAfter = clientRetryAfter(e.RetryAfter)
	}
	return e
}

// initRouter reads the router settings, the global pool settings and
// opens the cookie store. Errors name the config key.
func (r *Registry) initRouter(cfg *config.Config, opts Options) config.Errors {
	p, errs := newPolicy(cfg)
	r.policy = p
	r.warnings = append(r.warnings, p.warnings...)
	r.net.Pools = opts.poolsFor(poolWithConfig(opts.Pool, cfg.Router.ConnectionPool))
	jar, err := opts.cookieJarFor(p.cookieStore)
	if err != nil {
		r.warnings = append(r.warnings, "general_settings.cookie_store_path: "+err.Error())
	}
	r.net.Cookies = jar
	return errs
}
