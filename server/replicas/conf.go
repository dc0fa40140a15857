package replicas

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/redis/go-redis/v9"
)

// Conf is how to reach Redis, from router_settings. The zero value means
// no Redis. It is comparable: a reload that leaves it unchanged keeps
// the connections.
type Conf struct {
	// URL is redis_url (redis:// or rediss://); else Addrs is
	// redis_host:redis_port, the sentinel_nodes or the
	// redis_startup_nodes, comma-separated.
	URL      string
	Addrs    string
	Username string
	Password string
	DB       int
	// TLS is ssl: true (or a rediss:// URL); CAFile is ssl_ca_certs,
	// PEM roots to trust instead of the system's.
	TLS    bool
	CAFile string
	// MasterName is service_name: Addrs are Sentinels.
	MasterName       string
	SentinelPassword string
	// Cluster: Addrs are Redis Cluster startup nodes.
	Cluster bool
}

// Enabled reports whether a Redis is configured.
func (c Conf) Enabled() bool { return c.URL != "" || c.Addrs != "" }

// Where names the Redis for logs: addresses, never a password.
func (c Conf) Where() string {
	if c.URL != "" {
		if o, err := redis.ParseURL(c.URL); err == nil {
			return o.Addr
		}
	}
	return c.Addrs
}

// Secrets are the passwords c holds (to scrub from what clients see).
func (c Conf) Secrets() []string {
	out := []string{c.Password, c.SentinelPassword}
	if o, err := redis.ParseURL(c.URL); err == nil && c.URL != "" {
		out = append(out, o.Password)
	}
	return out
}

// ParseConf reads the Redis keys of router_settings (rp is its YAML
// path, for errors; the config loader has checked the types).
func ParseConf(r *config.RouterSettings, rp string) (Conf, config.Errors) {
	var errs config.Errors
	bad := func(key, msg string) { errs = append(errs, &config.Error{Path: rp + "." + key, Msg: msg}) }
	c := Conf{Username: r.RedisUsername, Password: r.RedisPassword, DB: r.RedisDB, TLS: r.SSL, CAFile: r.SSLCACerts,
		MasterName: r.ServiceName, SentinelPassword: r.SentinelPassword}
	var addrs []string
	if r.RedisStartupNodes != nil {
		c.Cluster = true
		if len(r.RedisStartupNodes) == 0 {
			bad("redis_startup_nodes", `must list at least one {host, port} (e.g. [{"host": "10.0.0.1", "port": 7001}])`)
		}
		for _, n := range r.RedisStartupNodes {
			addrs = append(addrs, net.JoinHostPort(n.Host, strconv.Itoa(cmp.Or(n.Port, 6379))))
		}
	}
	if r.SentinelNodes != nil {
		if len(r.SentinelNodes) == 0 {
			bad("sentinel_nodes", `must list at least one [host, port] (e.g. [["sentinel-1", 26379]])`)
		}
		for i, pair := range r.SentinelNodes {
			p := "sentinel_nodes[" + strconv.Itoa(i) + "]"
			if len(pair) != 2 {
				bad(p, "must be [host, port]")
				continue
			}
			if n, err := strconv.Atoi(pair[1]); err != nil || n < 1 || n > 65535 {
				bad(p, "must be [host, port] with a TCP port")
				continue
			}
			addrs = append(addrs, net.JoinHostPort(pair[0], pair[1]))
		}
		if c.MasterName == "" {
			bad("service_name", "is required with sentinel_nodes: the name Sentinel monitors the master under")
		}
		if c.Cluster {
			bad("sentinel_nodes", "cannot be set with redis_startup_nodes: Sentinel or Cluster, not both")
		}
	} else if c.MasterName != "" {
		bad("service_name", "needs sentinel_nodes")
	}

	if u := r.RedisURL; u != "" {
		c.URL = u
		o, err := redis.ParseURL(u)
		if err != nil {
			// The parse error may quote the URL and its password.
			bad("redis_url", "not a valid redis:// or rediss:// URL")
		} else if o.TLSConfig != nil {
			c.TLS = true
		}
		if len(addrs) > 0 {
			bad("redis_url", "cannot be set with redis_startup_nodes or sentinel_nodes")
		}
	} else if len(addrs) > 0 {
		c.Addrs = strings.Join(addrs, ",")
	} else if r.RedisHost != "" {
		c.Addrs = net.JoinHostPort(r.RedisHost, strconv.Itoa(cmp.Or(r.RedisPort, 6379)))
	}
	if c.CAFile != "" {
		if _, err := caPool(c.CAFile); err != nil {
			bad("ssl_ca_certs", err.Error())
		}
	}
	return c, errs
}

func caPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.New("cannot read " + path)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, errors.New(path + " holds no PEM certificate")
	}
	return p, nil
}

// Timeout bounds every Redis round trip: past it the caller goes on
// with local state and Redis is taken as unreachable.
const Timeout = 250 * time.Millisecond

// Open connects to the Redis c names: one client, one node or Sentinel
// or Cluster, as go-redis's universal client does, with Timeout on
// every round trip and no retries (callers fall back instead).
func Open(c Conf) (redis.UniversalClient, error) {
	setQuiet()
	o := &redis.UniversalOptions{
		Username: c.Username, Password: c.Password, DB: c.DB,
		MasterName: c.MasterName, SentinelPassword: c.SentinelPassword,
	}
	if c.Addrs != "" {
		o.Addrs = strings.Split(c.Addrs, ",")
	}
	var serverName string
	if c.URL != "" {
		u, err := redis.ParseURL(c.URL)
		if err != nil {
			return nil, errors.New("router_settings.redis_url: not a valid redis:// or rediss:// URL")
		}
		o.Addrs, o.Username, o.Password, o.DB = []string{u.Addr}, u.Username, u.Password, u.DB
		if u.TLSConfig != nil {
			serverName = u.TLSConfig.ServerName
		}
	}
	if c.TLS {
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
		if c.CAFile != "" {
			p, err := caPool(c.CAFile)
			if err != nil {
				return nil, errors.New("router_settings.ssl_ca_certs: " + err.Error())
			}
			o.TLSConfig.RootCAs = p
		}
		if serverName == "" && len(o.Addrs) > 0 {
			// Sentinel and Cluster nodes are checked against the first
			// address's host name: use a certificate naming it on all.
			o.TLSConfig.ServerName, _, _ = net.SplitHostPort(o.Addrs[0])
		}
	}
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout = Timeout, Timeout, Timeout
	o.MaxRetries = -1
	o.DialerRetries = 1
	o.DialerRetryTimeout = 10 * time.Millisecond
	o.ContextTimeoutEnabled = true
	switch {
	case c.Cluster:
		return redis.NewClusterClient(o.Cluster()), nil
	case c.MasterName != "":
		return redis.NewFailoverClient(o.Failover()), nil
	default:
		return redis.NewClient(o.Simple()), nil
	}
}

// quiet drops go-redis's own log lines: llmedge logs outages itself,
// once, through its logger.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

var quietOnce sync.Once

func setQuiet() { quietOnce.Do(func() { redis.SetLogger(quiet{}) }) }
