package upstream

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/transport"
)

// Egress settings (config.Egress: litellm_settings for every upstream,
// litellm_params for one deployment) with the environment under them
// (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, lower case first as curl reads
// them) become a transport.Egress, which the deployment's pools dial
// with. With no proxy and no TLS key anywhere the egress is nil and the
// pools are exactly as before (no work per request or per dial).

// egressBuilder builds and shares the egress of one Registry: equal
// settings give the same *transport.Egress (and so shared pools).
type egressBuilder struct {
	lookup   func(string) (string, bool)
	global   config.Egress
	byID     map[string]*transport.Egress
	warnings []string
	warned   map[string]bool
}

func newEgressBuilder(cfg *config.Config, lookup func(string) (string, bool)) *egressBuilder {
	return &egressBuilder{lookup: lookup, global: cfg.LiteLLM.Egress, byID: map[string]*transport.Egress{}, warned: map[string]bool{}}
}

// env is the first set value of the variable's lower- and upper-case
// forms (nil when neither is set).
func (b *egressBuilder) env(name string) *string {
	for _, n := range []string{strings.ToLower(name), name} {
		if v, ok := b.lookup(n); ok {
			return &v
		}
	}
	return nil
}

// build returns the egress for a deployment's own keys own (nil: the
// global one); path names own's keys in errors. A nil result means
// direct with Go's TLS defaults.
func (b *egressBuilder) build(own *config.Egress, path string) (*transport.Egress, *config.Error) {
	e := own.Over(b.global)
	keyPath := func(key string, set func(*config.Egress) bool) string {
		if own != nil && set(own) {
			return path + "." + key
		}
		return "litellm_settings." + key
	}
	for _, v := range []struct {
		set **string
		env string
	}{{&e.HTTPProxy, "HTTP_PROXY"}, {&e.HTTPSProxy, "HTTPS_PROXY"}, {&e.NoProxy, "NO_PROXY"}} {
		if *v.set == nil {
			*v.set = b.env(v.env)
		}
	}
	id := egressID(e)
	if x, ok := b.byID[id]; ok {
		return x, nil
	}
	x := &transport.Egress{ID: id}
	var err *config.Error
	if x.HTTPProxy, err = envProxy(e.HTTPProxy, own != nil && own.HTTPProxy != nil, keyPath("http_proxy", func(o *config.Egress) bool { return o.HTTPProxy != nil })); err != nil {
		return nil, err
	}
	if x.HTTPSProxy, err = envProxy(e.HTTPSProxy, own != nil && own.HTTPSProxy != nil, keyPath("https_proxy", func(o *config.Egress) bool { return o.HTTPSProxy != nil })); err != nil {
		return nil, err
	}
	if e.NoProxy != nil {
		x.NoProxy = transport.ParseNoProxy(*e.NoProxy)
	}
	if x.TLS, err = transport.TLSFromSettings(e, func(key string) string {
		return keyPath(key, func(o *config.Egress) bool { return reflectKeySet(o, key) })
	}); err != nil {
		return nil, err
	}
	if e.SSLVerifyOff() {
		where := keyPath("ssl_verify", func(o *config.Egress) bool { return o.SSLVerify != "" })
		if !b.warned[where] {
			b.warned[where] = true
			b.warnings = append(b.warnings, "WARNING: "+where+" is false: upstream TLS certificates are NOT verified; anyone on the path can read and change prompts, answers and API keys")
		}
	}
	if x.HTTPProxy == nil && x.HTTPSProxy == nil && x.TLS == nil {
		x = nil
	}
	b.byID[id] = x
	return x, nil
}

// envProxy parses a proxy URL from the config or the environment ("" or
// nil: none). The error never quotes it (it may hold a password).
func envProxy(v *string, fromConfig bool, path string) (*url.URL, *config.Error) {
	if v == nil || strings.TrimSpace(*v) == "" {
		return nil, nil
	}
	s := strings.TrimSpace(*v)
	if !strings.Contains(s, "://") {
		s = "http://" + s // curl's default scheme
	}
	if msg := config.CheckProxyURL(s); msg != "" {
		if !fromConfig {
			name := strings.ToUpper(path[strings.LastIndexByte(path, '.')+1:])
			return nil, &config.Error{Path: "environment " + name, Msg: msg}
		}
		return nil, &config.Error{Path: path, Msg: msg}
	}
	u, _ := url.Parse(s)
	return u, nil
}

// egressID identifies egress settings without holding them (proxy URLs
// may carry passwords).
func egressID(e config.Egress) string {
	str := func(p *string) string {
		if p == nil {
			return "\x00"
		}
		return *p
	}
	h := sha256.Sum256(fmt.Appendf(nil, "%q|%q|%q|%q|%q|%q|%q", str(e.HTTPProxy), str(e.HTTPSProxy), str(e.NoProxy),
		e.SSLVerify, e.SSLCertificate, e.SSLCertificateKey, e.SSLMinVersion))
	return hex.EncodeToString(h[:8])
}

// reflectKeySet reports whether o sets the TLS key named key.
func reflectKeySet(o *config.Egress, key string) bool {
	switch key {
	case "ssl_verify":
		return o.SSLVerify != ""
	case "ssl_certificate":
		return o.SSLCertificate != ""
	}
	return false
}

// GlobalEgress is litellm_settings' egress with the environment under
// it (nil: direct), for llmedge's clients outside the registry (the
// OTLP exporter). lookup nil reads the process environment.
func GlobalEgress(cfg *config.Config, lookup func(string) (string, bool)) (*transport.Egress, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	e, err := newEgressBuilder(cfg, lookup).build(nil, "litellm_settings")
	if err != nil {
		return nil, err
	}
	return e, nil
}
