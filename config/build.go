package config

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// builder interprets the resolved tree into a Config, collecting every
// error instead of stopping at the first.
type builder struct {
	cfg      *Config
	errs     Errors
	warnings []string
	ignored  map[string]bool
	env      *resolver
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

// section checks that a settings section is a mapping, reports its keys
// llmedge does not act on, and returns it (nil when absent or invalid).
func (b *builder) section(n *node, name string) *node {
	if n.isNull() {
		return nil
	}
	if n.kind != kindMap {
		b.errAt(n, name, "must be a mapping, not %s", describe(n))
		return nil
	}
	if acted, ok := actedOnKeys[name]; ok {
		for _, k := range n.keys {
			if !acted[k] {
				b.ignored[joinPath(name, k)] = true
			}
		}
	}
	return n
}

func rawMap(n *node) map[string]any {
	if n == nil {
		return map[string]any{}
	}
	m, _ := n.toAny().(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

func (b *builder) general(n *node) {
	s := b.section(n, "general_settings")
	g := &b.cfg.General
	g.Raw = rawMap(s)
	if s == nil {
		return
	}
	if mk := s.get("master_key"); mk != nil {
		v, _ := b.str(mk, "general_settings.master_key")
		if mk.envVar != "" && !mk.missing && v == "" {
			b.errAt(mk, "general_settings.master_key", "environment variable %s is empty (refusing to start without the master key it names)", mk.envVar)
		}
		g.MasterKey = v
	}
}

func (b *builder) litellm(n *node) {
	s := b.section(n, "litellm_settings")
	l := &b.cfg.LiteLLM
	l.Raw = rawMap(s)
	if s == nil {
		return
	}
	l.DropParams = b.boolean(s.get("drop_params"), "litellm_settings.drop_params")
	l.NumRetries = b.count(s.get("num_retries"), "litellm_settings.num_retries")
	l.RequestTimeout = b.seconds(s.get("request_timeout"), "litellm_settings.request_timeout")
	l.JSONLogs = b.boolean(s.get("json_logs"), "litellm_settings.json_logs")
}

func (b *builder) router(n *node) {
	s := b.section(n, "router_settings")
	r := &b.cfg.Router
	r.Raw = rawMap(s)
	r.RoutingStrategy = defaultRoutingStrategy
	if s == nil {
		return
	}
	if v, _ := b.str(s.get("routing_strategy"), "router_settings.routing_strategy"); strings.TrimSpace(v) != "" {
		r.RoutingStrategy = strings.TrimSpace(v)
	}
	r.NumRetries = b.count(s.get("num_retries"), "router_settings.num_retries")
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
	p := func(k string) string { return lpPath + "." + k }

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

	d.Timeout = b.seconds(lp.get("timeout"), p("timeout"))
	if d.Timeout == 0 {
		d.Timeout = b.cfg.LiteLLM.RequestTimeout
	}
	d.StreamTimeout = b.seconds(lp.get("stream_timeout"), p("stream_timeout"))
	d.MaxRetries = b.count(lp.get("max_retries"), p("max_retries"))
	d.RPM = b.limit(lp, e, "rpm", lpPath, label)
	d.TPM = b.limit(lp, e, "tpm", lpPath, label)
	d.MaxParallel = derefOr(b.count(lp.get("max_parallel_requests"), p("max_parallel_requests")), 0)
	d.Weight = b.nonNegFloat(lp.get("weight"), p("weight"))

	if mr := lp.get("mock_response"); !mr.isNull() {
		v, ok := b.str(mr, p("mock_response"))
		d.MockResponse, d.HasMockResponse = v, ok
	}

	mi := e.get("model_info")
	miPath := label + ".model_info"
	switch {
	case mi.isNull():
	case mi.kind != kindMap:
		b.errAt(mi, miPath, "must be a mapping, not %s", describe(mi))
	default:
		d.ModelInfo = rawMap(mi)
		if id := mi.get("id"); !id.isNull() {
			d.ID, _ = b.str(id, miPath+".id")
			d.ID = strings.TrimSpace(d.ID)
		}
	}
	if len(b.errs) > nerr {
		return nil
	}
	return d
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

func (b *builder) userIDMappings(n *node) {
	u := &b.cfg.UserIDMappings
	u.CustomHeader = defaultCustomHeader
	u.DefaultUserID = defaultUserID
	const sec = "user_id_mappings"
	if n.isNull() {
		return
	}
	if n.kind != kindMap {
		b.errAt(n, sec, "must be a mapping, not %s", describe(n))
		return
	}
	for i, k := range n.keys {
		if !userIDMappingKeys[k] {
			b.errAt(n.vals[i], joinPath(sec, k), "unknown key (allowed: custom_header, header_patterns, default_user_id)")
		}
	}
	if ch := n.get("custom_header"); !ch.isNull() {
		v, ok := b.str(ch, sec+".custom_header")
		v = strings.ToLower(strings.TrimSpace(v))
		switch {
		case !ok:
		case v == "":
		case !validHeaderName(v):
			b.errAt(ch, sec+".custom_header", "not a valid HTTP header name")
		default:
			u.CustomHeader = v
		}
	}
	if du := n.get("default_user_id"); !du.isNull() {
		if v, ok := b.str(du, sec+".default_user_id"); ok && v != "" {
			if msg := checkUserID(v); msg != "" {
				b.errAt(du, sec+".default_user_id", "%s", msg)
			} else {
				u.DefaultUserID = v
			}
		}
	}
	hp := n.get("header_patterns")
	if hp.isNull() {
		return
	}
	if hp.kind != kindSeq {
		b.errAt(hp, sec+".header_patterns", "must be a list of {header, pattern, user_id}, not %s", describe(hp))
		return
	}
	seen := map[[2]string]string{}
	for i, e := range hp.vals {
		ep := indexPath(sec+".header_patterns", i)
		if e.kind != kindMap {
			b.errAt(e, ep, "must be a mapping with header, pattern and user_id, not %s", describe(e))
			continue
		}
		ok := true
		for j, k := range e.keys {
			if !headerPatternKeys[k] {
				b.errAt(e.vals[j], joinPath(ep, k), "unknown key (allowed: header, pattern, user_id)")
				ok = false
			}
		}
		var p HeaderPattern
		// required returns an entry's string field; good is false (and an
		// error recorded) when it is absent, not a string, or names an
		// unset environment variable.
		required := func(key string) (n *node, s string, good bool) {
			n = e.get(key)
			switch {
			case n.isNull():
				b.errAt(e, joinPath(ep, key), "missing")
			case n.missing:
				b.errAt(n, joinPath(ep, key), "environment variable %s is not set", n.envVar)
			default:
				s, good = b.str(n, joinPath(ep, key))
			}
			if !good {
				ok = false
			}
			return n, s, good
		}
		if hn, h, good := required("header"); good {
			h = strings.ToLower(strings.TrimSpace(h))
			if !validHeaderName(h) {
				b.errAt(hn, joinPath(ep, "header"), "not a valid HTTP header name")
				ok = false
			}
			p.Header = h
		}
		if pn, pat, good := required("pattern"); good {
			p.Pattern = pat
			if pat == "" {
				b.errAt(pn, joinPath(ep, "pattern"), "must not be empty")
				ok = false
			} else if re, err := regexp.Compile("(?i)" + pat); err != nil {
				if pn.envVar != "" {
					b.errAt(pn, joinPath(ep, "pattern"), "not a valid regular expression")
				} else {
					b.errAt(pn, joinPath(ep, "pattern"), "not a valid regular expression: %v", err)
				}
				ok = false
			} else {
				p.Regexp = re
			}
		}
		if un, uid, good := required("user_id"); good {
			if msg := checkUserID(uid); msg != "" {
				b.errAt(un, joinPath(ep, "user_id"), "%s", msg)
				ok = false
			}
			p.UserID = uid
		}
		if !ok {
			continue
		}
		key := [2]string{p.Header, p.Pattern}
		if prev, dup := seen[key]; dup {
			b.errAt(e, ep, "duplicate header/pattern pair (same as %s)", prev)
			continue
		}
		seen[key] = ep
		u.HeaderPatterns = append(u.HeaderPatterns, p)
	}
}

// checkUserID returns why s is not a usable user id, or "".
func checkUserID(s string) string {
	if s == "" {
		return "must not be empty"
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "must not contain whitespace or control characters"
		}
	}
	return ""
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// Typed accessors. Each records an error naming path on a wrong type and
// never prints the value (it may be a secret). A value whose os.environ/
// variable is unset counts as absent.

// str returns a scalar as text. ok is false for null/absent (no error) and
// for a mapping or list (error).
func (b *builder) str(n *node, path string) (string, bool) {
	if n.isNull() || n.missing {
		return "", false
	}
	if n.kind != kindScalar {
		b.errAt(n, path, "must be a string, not %s", describe(n))
		return "", false
	}
	if s, ok := n.val.(string); ok {
		return s, true
	}
	return n.text, true
}

// number parses a scalar as float64 (numbers, or numeric strings such as
// "30" from an environment variable). ok is false when absent or invalid.
func (b *builder) number(n *node, path, want string) (float64, bool) {
	if n.isNull() || n.missing {
		return 0, false
	}
	if n.kind != kindScalar {
		b.errAt(n, path, "must be %s, not %s", want, describe(n))
		return 0, false
	}
	var f float64
	switch v := n.val.(type) {
	case int64:
		f = float64(v)
	case uint64:
		f = float64(v)
	case float64:
		f = v
	case string:
		s := strings.TrimSpace(v)
		if s == "" {
			if n.envVar != "" {
				return 0, false
			}
			b.errAt(n, path, "must be %s, not an empty string", want)
			return 0, false
		}
		var err error
		f, err = strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
		if err != nil {
			if i, ierr := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, 64); ierr == nil {
				f, err = float64(i), nil
			}
		}
		if err != nil {
			b.errAt(n, path, "must be %s, not a non-numeric string", want)
			return 0, false
		}
	default:
		b.errAt(n, path, "must be %s, not %s", want, describe(n))
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		b.errAt(n, path, "must be %s, not NaN or infinity", want)
		return 0, false
	}
	if f < 0 {
		b.errAt(n, path, "must not be negative")
		return 0, false
	}
	return f, true
}

// count reads a non-negative integer; nil when absent or invalid.
func (b *builder) count(n *node, path string) *int {
	f, ok := b.number(n, path, "a non-negative integer")
	if !ok {
		return nil
	}
	if f != math.Trunc(f) {
		b.errAt(n, path, "must be a whole number")
		return nil
	}
	if f > math.MaxInt32 {
		b.errAt(n, path, "too large")
		return nil
	}
	i := int(f)
	return &i
}

func (b *builder) nonNegFloat(n *node, path string) float64 {
	f, _ := b.number(n, path, "a non-negative number")
	return f
}

// maxSeconds keeps a timeout within time.Duration's range.
const maxSeconds = float64(math.MaxInt64/int64(time.Second)) - 1

// seconds reads a timeout given in seconds (integer, float or numeric
// string).
func (b *builder) seconds(n *node, path string) time.Duration {
	f, ok := b.number(n, path, "a number of seconds")
	if !ok {
		return 0
	}
	if f > maxSeconds {
		b.errAt(n, path, "too large")
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

func (b *builder) boolean(n *node, path string) bool {
	if n.isNull() || n.missing {
		return false
	}
	if n.kind == kindScalar {
		switch v := n.val.(type) {
		case bool:
			return v
		case int64:
			if v == 0 || v == 1 {
				return v == 1
			}
		case string:
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "true", "yes", "on", "1":
				return true
			case "false", "no", "off", "0", "":
				return false
			}
		}
	}
	b.errAt(n, path, "must be true or false, not %s", describe(n))
	return false
}
