package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// builder interprets the resolved tree into a Config, collecting every
// error instead of stopping at the first.
type builder struct {
	cfg      *Config
	errs     Errors
	warnings []string
	ignored  map[string]bool
	env      *resolver
	strict   bool
	// labels maps each deployment to its entry's path for messages.
	labels map[*Deployment]string
}

const (
	defaultRoutingStrategy = "simple-shuffle"
	defaultCustomHeader    = "x-memory-user-id"
	defaultUserID          = "default-dev"
)

func (b *builder) errAt(n *node, path, format string, args ...any) {
	e := &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.line, n.col
	}
	b.errs = append(b.errs, e)
}

// settings decodes a settings section into dst (a pointer to its
// typed struct), reports the keys llmedge does not know as ignored, and
// returns the section (nil when absent or not a mapping).
func (b *builder) settings(n *node, name string, dst any) *node {
	if n.isNull() {
		return nil
	}
	if n.kind != kindMap {
		b.errAt(n, name, "want a mapping, got %s", shown(n))
		return nil
	}
	known := sectionKeys[name]
	for _, k := range n.keys {
		if !known[k] {
			b.ignored[joinPath(name, k)] = true
		}
	}
	b.decodeStruct(n, name, reflect.ValueOf(dst).Elem(), false)
	return n
}

// rawMap converts a resolved mapping to plain Go values (never nil).
func rawMap(n *node) map[string]any {
	m, _ := n.toAny().(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

func (b *builder) general(n *node) {
	s := b.settings(n, "general_settings", &b.cfg.General)
	if b.cfg.General.StoreModelInDB {
		b.ignored["general_settings.store_model_in_db"] = true
	}
	if mk := s.get("master_key"); mk != nil && mk.envVar != "" && !mk.missing && b.cfg.General.MasterKey == "" {
		b.errAt(mk, "general_settings.master_key", "environment variable %s is empty (refusing to start without the master key it names)", mk.envVar)
	}
}

func (b *builder) router(n *node) {
	r := &b.cfg.Router
	b.settings(n, "router_settings", r)
	r.RoutingStrategy = strings.TrimSpace(r.RoutingStrategy)
	if r.RoutingStrategy == "" {
		r.RoutingStrategy = defaultRoutingStrategy
	}
}

// deployment interprets one resolved model_list entry. It returns nil when
// the entry is too broken to use (errors have been recorded).
func (b *builder) deployment(e *node, label string, index int) *Deployment {
	if e.kind != kindMap {
		b.errAt(e, label, "a model_list entry must be a mapping with model_name and litellm_params, not %s", describe(e))
		return nil
	}
	for _, k := range e.keys {
		if !deploymentKeys[k] {
			b.ignored["model_list[]."+k] = true
		}
	}
	d := &Deployment{Index: index, Params: map[string]any{}, ModelInfo: map[string]any{}}
	nerr := len(b.errs)

	mn := e.get("model_name")
	switch name, ok := b.str(mn, label+".model_name"); {
	case mn.isNull():
		b.errAt(e, label+".model_name", "missing (every deployment needs the model_name clients ask for)")
	case mn.missing:
		b.errAt(mn, label+".model_name", "environment variable %s is not set (model_name is required)", mn.envVar)
	case ok && strings.TrimSpace(name) == "" && !mn.missing:
		b.errAt(mn, label+".model_name", "must not be empty")
	default:
		d.ModelName = name
	}

	lp := e.get("litellm_params")
	lpPath := label + ".litellm_params"
	switch {
	case lp.isNull():
		b.errAt(e, lpPath, "missing (it must contain at least model)")
		return nil
	case lp.kind != kindMap:
		b.errAt(lp, lpPath, "must be a mapping, not %s", describe(lp))
		return nil
	}
	d.Params = rawMap(lp)
	b.checkParams(lp, d.ModelName)
	p := func(k string) string { return lpPath + "." + k }
	// Errors before this point leave nothing to serve; after it (see
	// the end) they make the deployment unavailable unless strict.
	nsettings := len(b.errs)

	mod := lp.get("model")
	switch v, ok := b.str(mod, p("model")); {
	case mod.isNull():
		b.errAt(lp, p("model"), "missing (e.g. \"openai/gpt-4o\")")
	case ok && strings.TrimSpace(v) == "" && !mod.missing:
		b.errAt(mod, p("model"), "must not be empty")
	default:
		d.Model = v
	}
	custom, _ := b.str(lp.get("custom_llm_provider"), p("custom_llm_provider"))
	d.Provider, d.UpstreamModel = splitModel(d.Model, custom)

	d.APIBase, _ = b.str(lp.get("api_base"), p("api_base"))
	if d.APIBase == "" {
		d.APIBase, _ = b.str(lp.get("base_url"), p("base_url"))
	}
	d.APIKey, _ = b.str(lp.get("api_key"), p("api_key"))
	d.APIVersion, _ = b.str(lp.get("api_version"), p("api_version"))
	d.ExtraHeaders = b.headers(lp.get("extra_headers"), p("extra_headers"))
	b.requestDefaults(d, lpPath)

	d.Timeout, _ = b.duration(lp.get("timeout"), p("timeout"), 0, maxDuration)
	if d.Timeout == 0 {
		d.Timeout = b.cfg.LiteLLM.RequestTimeout
	}
	d.StreamTimeout, _ = b.duration(lp.get("stream_timeout"), p("stream_timeout"), 0, maxDuration)
	d.MaxRetries = b.count(lp.get("max_retries"), p("max_retries"))
	d.RPM = b.limit(lp, e, "rpm", lpPath, label)
	d.TPM = b.limit(lp, e, "tpm", lpPath, label)
	d.MaxParallel = derefOr(b.count(lp.get("max_parallel_requests"), p("max_parallel_requests")), 0)
	d.Weight, _ = b.number(lp.get("weight"), p("weight"), "a number >= 0")
	b.decodeValue(lp.get("connection_pool"), p("connection_pool"), reflect.ValueOf(&d.ConnectionPool).Elem(), fieldSpec{})
	var eg Egress
	b.decodeStruct(lp, lpPath, reflect.ValueOf(&eg).Elem(), false)
	if !eg.IsZero() {
		d.Egress = &eg
		b.checkEgress(d.Egress, lpPath)
	}

	if mr := lp.get("mock_response"); !mr.isNull() {
		v, ok := b.str(mr, p("mock_response"))
		d.MockResponse, d.HasMockResponse = v, ok
	}

	mi := e.get("model_info")
	idErrs := len(b.errs)
	miPath := label + ".model_info"
	switch {
	case mi.isNull():
	case mi.kind != kindMap:
		b.errAt(mi, miPath, "must be a mapping, not %s", describe(mi))
	default:
		d.ModelInfo = rawMap(mi)
		d.Health = b.healthCheck(mi, miPath)
		if id := mi.get("id"); !id.isNull() {
			d.ID, _ = b.str(id, miPath+".id")
			d.ID = strings.TrimSpace(d.ID)
		}
	}
	if len(b.errs) > nerr && (b.strict || nsettings > nerr || d.ModelName == "" || d.Model == "" || hasIDError(b.errs[idErrs:])) {
		return nil
	}
	for _, err := range b.errs[nerr:] {
		d.Invalid = append(d.Invalid, err.Path+": "+err.Msg)
	}
	if len(d.Invalid) > 0 {
		b.errs = b.errs[:nerr]
		b.warnf("%s: deployment (model_name %q) is unavailable: %s", label, d.ModelName, strings.Join(d.Invalid, "; "))
	}
	return d
}

// hasIDError reports whether errs include one about model_info.id,
// which names the deployment and so cannot be demoted.
func hasIDError(errs Errors) bool {
	for _, e := range errs {
		if strings.HasSuffix(e.Path, ".model_info.id") {
			return true
		}
	}
	return false
}

// limit reads rpm/tpm from litellm_params, falling back to the entry
// level where LiteLLM's router also looks.
func (b *builder) limit(lp, entry *node, key, lpPath, label string) int {
	if v := lp.get(key); !v.isNull() {
		return derefOr(b.count(v, lpPath+"."+key), 0)
	}
	return derefOr(b.count(entry.get(key), label+"."+key), 0)
}

func derefOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// assignIDs fills generated ids and rejects duplicate model_info.id
// values. Generated ids ("<model_name>-<index>") step aside for explicit
// ones so that an explicit id never changes meaning.
func (b *builder) assignIDs() {
	used := map[string]string{}
	for _, d := range b.cfg.Deployments {
		if d.ID == "" {
			continue
		}
		path := b.labels[d] + ".model_info.id"
		if prev, dup := used[d.ID]; dup {
			b.errs = append(b.errs, &Error{Path: path, Msg: fmt.Sprintf("duplicate id %q (also at %s); deployment ids must be unique", d.ID, prev)})
			continue
		}
		used[d.ID] = path
	}
	for _, d := range b.cfg.Deployments {
		if d.ID != "" {
			continue
		}
		id := d.ModelName + "-" + strconv.Itoa(d.Index)
		for n := 2; used[id] != ""; n++ {
			id = d.ModelName + "-" + strconv.Itoa(d.Index) + "-" + strconv.Itoa(n)
		}
		d.ID = id
		used[id] = b.labels[d]
	}
}

func (b *builder) headers(n *node, path string) []Header {
	if n.isNull() {
		return nil
	}
	if n.kind != kindMap {
		b.errAt(n, path, "must be a mapping of header: value, not %s", describe(n))
		return nil
	}
	hs := make([]Header, 0, len(n.keys))
	for i, k := range n.keys {
		hp := joinPath(path, k)
		if !validHeaderName(k) {
			b.errAt(n.vals[i], hp, "not a valid HTTP header name")
			continue
		}
		v, ok := b.str(n.vals[i], hp)
		if !ok {
			continue
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			b.errAt(n.vals[i], hp, "header value must not contain CR, LF or NUL")
			continue
		}
		hs = append(hs, Header{Name: k, Value: v})
	}
	return hs
}
