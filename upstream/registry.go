package upstream

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/upstream/pricing"
	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/respstore"
	"github.com/llmedge/llmedge/upstream/transport"
)

// Defaults for calls whose config sets no timeout.
const (
	// DefaultTimeout bounds a whole non-stream call (LiteLLM's default
	// request_timeout is 600 s).
	DefaultTimeout = 600 * time.Second
	// DefaultStreamTimeout bounds the wait for a stream's first byte and
	// every gap between its events. Reasoning models may think for
	// minutes before the first token, hence generous.
	DefaultStreamTimeout = 600 * time.Second
)

// Options configure a Registry. The zero value is usable.
type Options struct {
	// Pool sizes the per-host connection pools (see PoolSettings).
	Pool PoolSettings
	// Strict makes a deployment whose provider llmedge does not serve a
	// startup error instead of an unavailable deployment. Default false.
	Strict bool
	// LookupEnv reads provider default key variables (OPENAI_API_KEY...)
	// for deployments without api_key. Nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Previous is the Registry this one replaces on a config reload: its
	// connection pools are shared, so hosts still in use keep their warm
	// connections (Pool is then ignored). Nil on first start.
	Previous *Registry
}

// Deployment is one model_list entry ready to serve. Its Endpoint
// (Config, ID, ModelName, Provider and what reaching the upstream takes)
// is what a provider's attempt sees; the rest is the router's.
type Deployment struct {
	provider.Endpoint

	// desc is what the deployment's provider prefix names (providers.go);
	// nil when llmedge does not serve it.
	desc *provider.Descriptor
	// routes and mode say which routes the deployment serves (routes.go).
	routes provider.Routes
	mode   string
	// nativeResponses: the Responses API is passed through; else it is
	// translated to chat (routes.go, translateResponses).
	nativeResponses bool

	// Price is what the deployment charges: the built-in table's price
	// for its model under model_info and litellm_params overrides
	// (upstream/pricing). Unknown (zero) for unpriced models.
	Price pricing.Price

	slots  parallelSlots // max_parallel_requests (parallel.go)
	health health
	// catchAll is set on a "*" catch-all deployment (catchall.go).
	catchAll *catchAll
}

// Available reports whether the deployment can serve, and why not.
func (d *Deployment) Available() (bool, string) { return d.Unavailable == "", d.Unavailable }

// InFlight is the number of calls currently using the deployment.
func (d *Deployment) InFlight() int64 { return d.health.inflight.Load() }

// Group is the deployments sharing one model_name.
type Group struct {
	Name        string
	Deployments []*Deployment
	// pattern groups (model_name with '*') match by glob.
	prefix, suffix string
	pattern        bool
	available      int
}

// Registry holds every deployment, grouped by model_name.
type Registry struct {
	groups   map[string]*Group
	patterns []*Group
	order    []*Group
	// aliases are router_settings.model_group_alias (groupalias.go).
	aliases   map[string]*Group
	aliasList []Alias
	// net is the pools and cookie store every exchange uses.
	net      transport.Session
	warnings []string
	policy   policy
	obs      Observer  // metrics hooks (observe.go); nil = none
	freed    slotFreed // wakes calls waiting for a deployment slot
	// store keeps translated responses (responses_chat.go); shared
	// with the registry this one replaces.
	store    respstore.Store
	memStore *respstore.Memory
	storeCfg storeSettings
	sync     syncState // SyncHealth (shared.go)
	egress   *egressBuilder
}

// NewRegistry builds deployments from cfg. Errors are config errors
// naming the YAML path.
func NewRegistry(cfg *config.Config, opts Options) (*Registry, error) {
	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	r := &Registry{groups: make(map[string]*Group), net: transport.Session{Pools: transport.NewPools(opts.Pool)}}
	r.egress = newEgressBuilder(cfg, lookup)
	global, gerr := r.egress.build(nil, "litellm_settings")
	opts.Pool.Egress = global // egress.go
	errs := r.initRouter(cfg, opts)
	if gerr != nil {
		errs = append(errs, gerr)
	}
	errs = append(errs, r.initStore(cfg, opts.Previous)...)
	for _, cd := range cfg.Deployments {
		var d *Deployment
		var err *config.Error
		if cd.IsCatchAll() {
			d = r.buildCatchAll(cd, cfg, opts, lookup)
		} else {
			d, err = r.build(cd, cfg, opts, lookup)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		g := r.groups[cd.ModelName]
		if g == nil {
			g = &Group{Name: cd.ModelName}
			if i := strings.IndexByte(cd.ModelName, '*'); i >= 0 {
				g.pattern = true
				g.prefix, g.suffix = cd.ModelName[:i], cd.ModelName[i+1:]
				r.patterns = append(r.patterns, g)
			}
			r.groups[cd.ModelName] = g
			r.order = append(r.order, g)
		}
		g.Deployments = append(g.Deployments, d)
		if d.Unavailable == "" {
			g.available++
		}
	}
	r.warnings = append(r.warnings, r.egress.warnings...)
	if len(errs) > 0 {
		return nil, errs
	}
	r.initAliases(cfg)
	return r, nil
}

func (r *Registry) build(cd *config.Deployment, cfg *config.Config, opts Options, lookup func(string) (string, bool)) (*Deployment, *config.Error) {
	path := fmt.Sprintf("model_list[%d].litellm_params", cd.Index)
	d := &Deployment{Endpoint: provider.Endpoint{Config: cd, ID: cd.ID, ModelName: cd.ModelName, Provider: cd.Provider, Net: &r.net,
		Headers: cd.ExtraHeaders, HeaderSecrets: provider.CredentialHeaderSecrets(cd.ExtraHeaders)}}
	if w := d.initRoutes(cd, providerTable[cd.Provider]); w != "" {
		r.warnings = append(r.warnings, w)
	}
	p, ok := providerTable[cd.Provider]
	if !ok {
		name := cd.Provider
		if name == "" {
			name = cd.Model
		}
		msg := fmt.Sprintf("provider %q is not supported by llmedge (supported: %s)", name, strings.Join(SupportedProviders(), ", "))
		if opts.Strict {
			return nil, &config.Error{Path: path + ".model", Msg: msg}
		}
		d.Unavailable = fmt.Sprintf("model %q is unavailable: %s", cd.ModelName, msg)
		d.UnavailableStatus, d.UnavailableCode = 501, "provider_not_supported"
		r.warnings = append(r.warnings, fmt.Sprintf("deployment %s (model_name %q): %s; requests for it will fail", cd.ID, cd.ModelName, msg))
		return d, nil
	}
	d.desc = p
	if len(cd.Invalid) > 0 {
		d.Unavailable = fmt.Sprintf("model %q is unavailable: its config is invalid: %s", cd.ModelName, strings.Join(cd.Invalid, "; "))
		d.UnavailableStatus, d.UnavailableCode = 503, "invalid_deployment_config"
		return d, nil
	}
	if len(cd.MissingEnv) > 0 {
		d.Unavailable = fmt.Sprintf("model %q is unavailable: environment variable %s is not set", cd.ModelName, strings.Join(cd.MissingEnv, ", "))
		d.UnavailableStatus, d.UnavailableCode = 503, "missing_environment_variable"
	}
	d.Timeout = cd.Timeout
	if d.Timeout <= 0 {
		d.Timeout = r.policy.timeout
	}
	d.slots.max = int64(cd.MaxParallel)
	if d.slots.max == 0 {
		d.slots.max = int64(r.policy.defaultMaxParallel)
	}
	d.StreamTimeout = cd.StreamTimeout
	if d.StreamTimeout <= 0 {
		d.StreamTimeout = r.policy.streamTimeout
	}
	price, perr := pricing.Builtin.Resolve(cd.Provider, cd.UpstreamModel, cd.ModelInfo, cd.Params, fmt.Sprintf("model_list[%d]", cd.Index))
	if perr != nil {
		return nil, &config.Error{Path: perr.Path, Msg: perr.Msg}
	}
	d.Price = price
	d.Wildcard = cd.UpstreamModel == "*" || strings.HasSuffix(cd.UpstreamModel, "/*")
	d.QuotedModel = jsonx.AppendString(nil, cd.UpstreamModel)
	if p.Build == nil {
		return d, nil
	}
	eg, egErr := r.egress.build(cd.Egress, path)
	if egErr != nil {
		return nil, egErr
	}
	d.Egress = eg
	b := &provider.BuildEnv{Cfg: cfg, Path: path, Lookup: lookup, Pool: r.deploymentPool, Provider: p}
	e := p.Build(&d.Endpoint, b)
	if e == nil {
		// drop_params, supermemory keys, and the Anthropic options
		// (thinking, max_tokens) of the descriptor Build settled on.
		d.desc = b.Provider
		e = b.BuildOptions(&d.Endpoint, d.desc)
	}
	if e == nil {
		d.InitRequestHeads(d.routes)
	}
	r.warnings = append(r.warnings, b.Warnings...)
	if e != nil {
		return nil, e
	}
	return d, nil
}

// Warnings are deployment problems found while building (no secrets).
func (r *Registry) Warnings() []string { return r.warnings }

// Groups returns the model groups in config order.
func (r *Registry) Groups() []*Group { return r.order }

// Known reports whether model is a group's own name, not matched
// through a pattern (request.Models: "claude-*" must not keep
// "claude-sonnet-4-5,context-1m-2025-08-07" whole).
func (r *Registry) Known(model []byte) bool {
	_, ok := r.groups[string(model)]
	return ok
}

// Lookup finds the group serving model. Exact names win over patterns.
// It does not allocate.
func (r *Registry) Lookup(model []byte) *Group {
	if r.aliases != nil {
		if g, ok := r.aliases[string(model)]; ok {
			return g
		}
	}
	if g, ok := r.groups[string(model)]; ok {
		return g
	}
	for _, g := range r.patterns {
		if len(model) >= len(g.prefix)+len(g.suffix) && strings.HasPrefix(string(model), g.prefix) && strings.HasSuffix(string(model), g.suffix) {
			return g
		}
	}
	return nil
}

// wildcardPart returns what the group's '*' matched in model.
func (g *Group) wildcardPart(model []byte) []byte {
	if !g.pattern {
		return model
	}
	return model[len(g.prefix) : len(model)-len(g.suffix)]
}
