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
	list := reg.policy.fallbacksFor(g.Name, first)
	if len(list) == 0 {
		return finalError(first)
	}
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
		if fg == nil || containsGroup(tried, fg) {
			continue
		}
		tried = append(tried, fg)
		used++
		// The fallback group sees its own name as the requested model
		// (wildcard groups take their upstream id from it).
		req.Model = []byte(name)
		err := reg.tryGroup(fg, req, out, &cs)
		if err == nil {
			return nil
		}
		if err.Status == 499 || req.Cancel.Canceled() {
			return err
		}
	}
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
	ps, perrs := poolSettingsFrom(cfg.Router.Raw["connection_pool"], "router_settings.connection_pool", opts.Pool)
	errs = append(errs, perrs...)
	r.pools = newPools(ps)
	jar, err := newCookieJar(p.cookieStore)
	if err != nil {
		r.warnings = append(r.warnings, "general_settings.cookie_store_path: "+err.Error())
	}
	r.cookies = jar
	return errs
}
