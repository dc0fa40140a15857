package transport

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/llmedge/llmedge/config"
)

// Egress is how the connections of a pool leave the machine: through a
// forward proxy or not, and with which TLS settings. A nil *Egress (the
// default) dials every upstream directly with Go's TLS defaults, and
// costs nothing per request: the proxy is chosen once, when a host's
// pool is made, not per request.
type Egress struct {
	// ID tells egress settings apart for pool sharing (PoolSettings.Key):
	// pools of equal settings and equal ID are shared. It must not hold
	// secrets (it is not logged, but it is a map key anyone may print).
	ID string
	// HTTPProxy and HTTPSProxy are the forward proxies for plain-HTTP and
	// HTTPS upstreams (nil: direct): http://, https:// or socks5://,
	// user:password in the URL for Basic proxy authentication.
	HTTPProxy, HTTPSProxy *url.URL
	// NoProxy lists the hosts reached directly (NO_PROXY's syntax).
	NoProxy NoProxy
	// TLS is the base client TLS configuration of upstream connections
	// (RootCAs, Certificates, MinVersion, InsecureSkipVerify); nil = Go's
	// defaults. ServerName is set per host.
	TLS *tls.Config
}

// ProxyFor returns the forward proxy for an upstream addr ("host:port")
// reached over TLS or not; nil means direct.
func (e *Egress) ProxyFor(addr string, isTLS bool) *url.URL {
	if e == nil {
		return nil
	}
	p := e.HTTPProxy
	if isTLS {
		p = e.HTTPSProxy
	}
	if p == nil || e.NoProxy.Matches(addr) {
		return nil
	}
	return p
}

// HTTPTransport is a net/http transport with the same egress, for the
// few calls that do not go through the pools (OAuth token fetches).
func (e *Egress) HTTPTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if e == nil {
		return t
	}
	t.Proxy = func(r *http.Request) (*url.URL, error) {
		return e.ProxyFor(DialAddr(r.URL), r.URL.Scheme == "https"), nil
	}
	if e.TLS != nil {
		t.TLSClientConfig = e.TLS.Clone()
	}
	return t
}

// RedactProxy is a proxy URL fit for logs and error messages: scheme,
// host and port, never the credentials.
func RedactProxy(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// proxyAddr is the "host:port" to dial for proxy u.
func proxyAddr(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	switch u.Scheme {
	case "https":
		return u.Host + ":443"
	case "socks5", "socks5h":
		return u.Host + ":1080"
	}
	return u.Host + ":80"
}

// proxyAuth is the Proxy-Authorization value for u's credentials ("" for
// none).
func proxyAuth(u *url.URL) string {
	if u.User == nil {
		return ""
	}
	pw, _ := u.User.Password()
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pw))
}

// NoProxy is a parsed NO_PROXY list, matched the way curl matches it: a
// comma- (or space-) separated list of host names, each matching itself
// and its subdomains (a leading "." or "*." is allowed), IP addresses,
// CIDR blocks, each optionally with ":port"; "*" matches every host.
type NoProxy struct {
	all   bool
	hosts []noProxyHost
	nets  []*net.IPNet
}

type noProxyHost struct {
	name string // lower case, no leading dot
	port string // "" for any
}

// ParseNoProxy parses a NO_PROXY value.
func ParseNoProxy(s string) NoProxy {
	var np NoProxy
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "*" {
			np.all = true
			continue
		}
		if _, n, err := net.ParseCIDR(f); err == nil {
			np.nets = append(np.nets, n)
			continue
		}
		h := noProxyHost{name: f}
		if host, port, err := net.SplitHostPort(f); err == nil {
			h = noProxyHost{name: host, port: port}
		}
		h.name = strings.TrimPrefix(strings.TrimPrefix(strings.Trim(h.name, "[]"), "*"), ".")
		if h.name != "" {
			np.hosts = append(np.hosts, h)
		}
	}
	return np
}

// Matches reports whether addr ("host:port") is to be reached directly.
func (np NoProxy) Matches(addr string) bool {
	if np.all {
		return true
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	ip := net.ParseIP(host)
	for _, n := range np.nets {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	for _, h := range np.hosts {
		if h.port != "" && h.port != port {
			continue
		}
		if host == h.name {
			return true
		}
		if ip == nil && strings.HasSuffix(host, "."+h.name) {
			return true
		}
		if hip := net.ParseIP(h.name); hip != nil && ip != nil && hip.Equal(ip) {
			return true
		}
	}
	return false
}

// TLSFromSettings is the client TLS configuration of e's TLS keys (nil when none
// is set: Go's defaults, which read SSL_CERT_FILE and SSL_CERT_DIR).
func TLSFromSettings(e config.Egress, keyPath func(key string) string) (*tls.Config, *config.Error) {
	if e.SSLVerify == "" && e.SSLCertificate == "" && e.SSLMinVersion == "" {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if strings.HasSuffix(strings.TrimSpace(e.SSLMinVersion), "1.3") {
		c.MinVersion = tls.VersionTLS13
	}
	c.InsecureSkipVerify = e.SSLVerifyOff()
	if bundle := e.SSLVerifyBundle(); bundle != "" {
		path := keyPath("ssl_verify")
		pem, err := os.ReadFile(bundle)
		if err != nil {
			return nil, &config.Error{Path: path, Msg: "cannot read the CA bundle " + bundle}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &config.Error{Path: path, Msg: "no PEM certificate in " + bundle}
		}
		c.RootCAs = pool
	}
	if e.SSLCertificate != "" {
		key := e.SSLCertificateKey
		if key == "" {
			key = e.SSLCertificate
		}
		cert, err := tls.LoadX509KeyPair(e.SSLCertificate, key)
		if err != nil {
			// The error text names PEM blocks, never key material.
			return nil, &config.Error{Path: keyPath("ssl_certificate"),
				Msg: "cannot load the client certificate and key: " + err.Error()}
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}
