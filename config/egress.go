package config

import (
	"net/url"
	"os"
	"reflect"
	"strings"
)

// Egress is how llmedge reaches upstreams: forward proxies and TLS. Its
// keys are read from litellm_settings (every upstream) and from a
// deployment's litellm_params (that deployment; each key given there
// wins). LiteLLM reads ssl_verify and ssl_certificate the same way; the
// proxy keys are llmedge's (LiteLLM has only the environment), named
// like the environment variables they override. Package upstream acts
// on them (upstream/egress.go); docs/egress.md documents them.
type Egress struct {
	// HTTPProxy, HTTPSProxy and NoProxy override HTTP_PROXY, HTTPS_PROXY
	// and NO_PROXY (and their lower-case forms): the forward proxy for
	// plain-HTTP and for HTTPS upstreams (http:// or https://,
	// user:password@ for Basic authentication) and the hosts reached
	// directly. nil = the environment's; "" = none (direct), even when
	// the environment names one.
	HTTPProxy  *string `yaml:"http_proxy"`
	HTTPSProxy *string `yaml:"https_proxy"`
	NoProxy    *string `yaml:"no_proxy"`
	// SSLVerify is LiteLLM's ssl_verify: "true" (default: the system's
	// CAs, or SSL_CERT_FILE / SSL_CERT_DIR), "false" (no verification;
	// a loud warning) or the path of a PEM CA bundle trusted instead.
	SSLVerify string `yaml:"ssl_verify"`
	// SSLCertificate and SSLCertificateKey are the PEM client
	// certificate and its key for upstreams that require mTLS (the key
	// may be in the certificate's file; default none).
	SSLCertificate    string `yaml:"ssl_certificate"`
	SSLCertificateKey string `yaml:"ssl_certificate_key"`
	// SSLMinVersion is the lowest TLS version accepted: "1.2" (default)
	// or "1.3".
	SSLMinVersion string `yaml:"ssl_min_version"`
}

// IsZero reports whether no egress key is set.
func (e *Egress) IsZero() bool { return e == nil || *e == Egress{} }

// Over returns e's keys laid over base: each key set in e wins.
func (e *Egress) Over(base Egress) Egress {
	if e == nil {
		return base
	}
	out := base
	v, ev := reflect.ValueOf(&out).Elem(), reflect.ValueOf(*e)
	for i := range v.NumField() {
		if !ev.Field(i).IsZero() {
			v.Field(i).Set(ev.Field(i))
		}
	}
	return out
}

// SSLVerifyOff reports whether ssl_verify turns verification off.
func (e Egress) SSLVerifyOff() bool {
	switch strings.ToLower(strings.TrimSpace(e.SSLVerify)) {
	case "false", "no", "off", "0":
		return true
	}
	return false
}

// SSLVerifyBundle is the CA bundle path ssl_verify names ("" for none).
func (e Egress) SSLVerifyBundle() string {
	switch strings.ToLower(strings.TrimSpace(e.SSLVerify)) {
	case "", "true", "yes", "on", "1", "false", "no", "off", "0":
		return ""
	}
	return e.SSLVerify
}

// checkEgress reports the egress keys under path with bad values: proxy
// URLs that do not parse or name no host, files that cannot be read, an
// unknown TLS version. Errors never quote a proxy URL (it may hold a
// password).
func (b *builder) checkEgress(e *Egress, path string) {
	if e == nil {
		return
	}
	for _, p := range []struct {
		key string
		v   *string
	}{{"http_proxy", e.HTTPProxy}, {"https_proxy", e.HTTPSProxy}} {
		if p.v == nil || *p.v == "" {
			continue
		}
		if msg := CheckProxyURL(*p.v); msg != "" {
			b.errs = append(b.errs, &Error{Path: joinPath(path, p.key), Msg: msg})
		}
	}
	for _, f := range []struct{ key, v string }{
		{"ssl_verify", e.SSLVerifyBundle()}, {"ssl_certificate", e.SSLCertificate}, {"ssl_certificate_key", e.SSLCertificateKey},
	} {
		if f.v == "" {
			continue
		}
		if _, err := os.Stat(f.v); err != nil {
			b.errs = append(b.errs, &Error{Path: joinPath(path, f.key), Msg: "want true, false or a readable PEM file; cannot read " + f.v}) // the path is not a secret
			if f.key != "ssl_verify" {
				b.errs[len(b.errs)-1].Msg = "cannot read the PEM file " + f.v
			}
		}
	}
	if e.SSLCertificateKey != "" && e.SSLCertificate == "" {
		b.errs = append(b.errs, &Error{Path: joinPath(path, "ssl_certificate_key"), Msg: "set without ssl_certificate"})
	}
	switch strings.TrimSpace(e.SSLMinVersion) {
	case "", "1.2", "1.3", "TLSv1.2", "TLSv1.3":
	default:
		b.errs = append(b.errs, &Error{Path: joinPath(path, "ssl_min_version"), Msg: "want \"1.2\" or \"1.3\", got " + shownString(e.SSLMinVersion)})
	}
}

// CheckProxyURL says what is wrong with a forward proxy URL ("" when
// nothing), without quoting it.
func CheckProxyURL(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	switch {
	case err != nil:
		return "not a valid URL (want http://[user:password@]host:port)"
	case u.Scheme != "http" && u.Scheme != "https":
		return "want an http:// or https:// proxy URL (socks5 is not supported)"
	case u.Host == "":
		return "the proxy URL names no host"
	}
	return ""
}

func shownString(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return "\"" + s + "\""
}
