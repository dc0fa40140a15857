package upstream

import (
	"fmt"
	"maps"
	"slices"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/provider"
)

// LiteLLM's quick-start catch-all (model_name "*", litellm_params.model
// "*") serves any model: the provider is inferred from the requested
// name ("groq/llama-3…" → groq, "gpt-4o" → openai, "claude-…" →
// anthropic) and credentials come from the environment, as LiteLLM does.
// The registry builds, once, one wildcard deployment per provider llmedge
// serves with the entry's litellm_params (its api_key, if any, applies to
// all); the router sees only the catch-all, so cooldowns and limits are
// the entry's.

// catchAll is a "*" deployment's per-provider deployments.
type catchAll struct {
	byProvider map[string]*Deployment
	// unbuildable says why a provider cannot be served this way (e.g.
	// it needs an api_base).
	unbuildable map[string]string
}

// buildCatchAll builds the catch-all deployment of cd. Warnings of the
// per-provider builds are not kept: a provider without credentials is
// reported when a request asks for it.
func (r *Registry) buildCatchAll(cd *config.Deployment, cfg *config.Config, opts Options, lookup func(string) (string, bool)) *Deployment {
	d := &Deployment{Endpoint: provider.Endpoint{Config: cd, ID: cd.ID, ModelName: cd.ModelName, Provider: "*", Net: &r.net}}
	d.routes = provider.RoutesAll
	d.slots.max = int64(cd.MaxParallel)
	if d.slots.max == 0 {
		d.slots.max = int64(r.policy.defaultMaxParallel)
	}
	ca := &catchAll{byProvider: map[string]*Deployment{}, unbuildable: map[string]string{}}
	nwarn := len(r.warnings)
	for _, p := range slices.Sorted(maps.Keys(providerTable)) {
		sub := *cd
		sub.Model, sub.Provider, sub.UpstreamModel = p+"/*", p, "*"
		sd, err := r.build(&sub, cfg, opts, lookup)
		if err != nil {
			ca.unbuildable[p] = err.Msg
			continue
		}
		ca.byProvider[p] = sd
	}
	r.warnings = r.warnings[:nwarn]
	d.catchAll = ca
	return d
}

// pick returns the deployment serving model and the model id it is
// sent as, or the error naming why model cannot be served.
func (ca *catchAll) pick(d *Deployment, model []byte) (*Deployment, []byte, *Error) {
	p, up := config.SplitModel(string(model))
	sd := ca.byProvider[p]
	if sd == nil {
		msg := fmt.Sprintf("model %q: the catch-all deployment %s cannot infer its provider; ask for \"provider/model\" (e.g. \"openai/gpt-4o\")", model, d.ID)
		if why, ok := ca.unbuildable[p]; ok {
			msg = fmt.Sprintf("model %q: provider %q cannot be served by the catch-all deployment %s: %s", model, p, d.ID, why)
		} else if p != "" {
			msg = fmt.Sprintf("model %q: provider %q is not supported by llmedge", model, p)
		}
		return nil, nil, &Error{Status: 400, Type: provider.ErrorType(400), Code: "provider_not_inferred", Message: msg}
	}
	if sd.Unavailable != "" {
		return nil, nil, &Error{Status: sd.UnavailableStatus, Type: provider.ErrorType(sd.UnavailableStatus), Code: sd.UnavailableCode, Message: sd.Unavailable}
	}
	if len(up) < len(model) {
		model = model[len(model)-len(up):]
	}
	return sd, model, nil
}
