package upstream

import "bytes"

// Group returns the group serving model name (exact name, else a
// pattern group), or nil. Fallbacks name their targets this way.
func (r *Registry) Group(name string) *Group { return r.Lookup([]byte(name)) }

// fallbacksFor lists the model groups to try after g failed with e, in
// order: context_window_fallbacks on a context-length error,
// content_policy_fallbacks on a content-policy refusal, otherwise
// fallbacks (or default_fallbacks when g has none). A malformed request
// (400/413/422 of another kind) and a client that went away get none:
// another model would fail or be wasted the same way.
func (p *policy) fallbacksFor(g string, e *Error) []string {
	switch {
	case e.Status == 499:
		return nil
	case isContextWindow(e):
		if l, ok := p.contextFB[g]; ok {
			return l
		}
		return nil
	case isContentPolicy(e):
		if l, ok := p.contentFB[g]; ok {
			return l
		}
		return nil
	case e.Status == 400 || e.Status == 413 || e.Status == 422:
		return nil
	}
	if l, ok := p.fallbacks[g]; ok {
		return l
	}
	if len(p.defaultFB) > 0 {
		if _, ok := p.fallbacks["*"]; !ok {
			return p.defaultFB
		}
	}
	return p.fallbacks["*"]
}

// errorText is what an error says, for recognising its kind: the
// upstream's body when passed on, else the message.
func errorText(e *Error) []byte {
	if len(e.Body) > 0 {
		return e.Body
	}
	return []byte(e.Message + " " + e.Code)
}

func containsFold(b []byte, subs ...string) bool {
	for _, s := range subs {
		if len(s) <= len(b) && bytes.Contains(bytes.ToLower(b), []byte(s)) {
			return true
		}
	}
	return false
}

// isContextWindow recognises a context-length error as the providers
// word it (OpenAI's code context_length_exceeded, "maximum context
// length", Anthropic's "prompt is too long", ...).
func isContextWindow(e *Error) bool {
	if e.Status != 400 && e.Status != 413 && e.Status != 422 {
		return false
	}
	return containsFold(errorText(e), "context_length_exceeded", "context length", "context window", "prompt is too long", "maximum context", "too many tokens", "input is too long")
}

// isContentPolicy recognises a content-policy refusal (OpenAI's
// content_policy_violation, Azure's content_filter, ...).
func isContentPolicy(e *Error) bool {
	if e.Status != 400 && e.Status != 403 && e.Status != 422 {
		return false
	}
	return containsFold(errorText(e), "content_policy", "content policy", "content_filter", "content management policy", "safety system")
}
