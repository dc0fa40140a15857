package replicas

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
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
// path, for errors).
func ParseConf(r map[string]any, rp string) (Conf, config.Errors) {
	var c Conf
	var errs config.Errors
	bad := func(key, msg string) { errs = append(errs, &config.Error{Path: rp + "." + key, Msg: msg}) }
	str := func(key string) string {
		switch v := r[key].(type) {
		case nil:
			return ""
		case string:
			return v
		case int, int64, uint64, float64:
			return fmt.Sprint(v)
		default:
			bad(key, "must be a string")
			return ""
		}
	}
	port := func(key string, v any) string {
		s := strings.TrimSpace(fmt.Sprint(v))
		if f, ok := v.(float64); ok && f == math.Trunc(f) {
			s = strconv.FormatInt(int64(f), 10)
		}
		if n, err := strconv.Atoi(s); err != nil || n < 1 || n > 65535 {
			bad(key, "must be a TCP port")
			return "6379"
		}
		return s
	}
	c.Username, c.Password = str("redis_username"), str("redis_password")
	if db := str("redis_db"); db != "" {
		n, err := strconv.Atoi(db)
		if err != nil || n < 0 {
			bad("redis_db", "must be a database number (0, 1, ...)")
		}
		c.DB = n
	}
	switch v := r["ssl"].(type) {
	case nil:
	case bool:
		c.TLS = v
	case string:
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad("ssl", "must be true or false")
		}
		c.TLS = b
	default:
		bad("ssl", "must be true or false")
	}
	c.CAFile = str("ssl_ca_certs")
	c.MasterName, c.SentinelPassword = str("service_name"), str("sentinel_password")

	var addrs []string
	if v, ok := r["redis_startup_nodes"]; ok && v != nil {
		c.Cluster = true
		list, _ := v.([]any)
		if len(list) == 0 {
			bad("redis_startup_nodes", `must be a list of {host, port} (e.g. [{"host": "10.0.0.1", "port": 7001}])`)
		}
		for i, e := range list {
			m, ok := e.(map[string]any)
			h, _ := m["host"].(string)
			if !ok || h == "" {
				bad("redis_startup_nodes["+strconv.Itoa(i)+"]", "must be {host, port}")
				continue
			}
			p := "6379"
			if pv, ok := m["port"]; ok && pv != nil {
				p = port("redis_startup_nodes["+strconv.Itoa(i)+"].port", pv)
			}
			addrs = append(addrs, net.JoinHostPort(h, p))
		}
	}
	if v, ok := r["sentinel_nodes"]; ok && v != nil {
		list, _ := v.([]any)
		if len(list) == 0 {
			bad("sentinel_nodes", `must be a list of [host, port] (e.g. [["sentinel-1", 26379]])`)
		}
		for i, e := range list {
			pair, ok := e.([]any)
			var h string
			if ok && len(pair) == 2 {
				h, _ = pair[0].(string)
			}
			if h == "" {
				bad("sentinel_nodes["+strconv.Itoa(i)+"]", "must be [host, port]")
				continue
			}
			addrs = append(addrs, net.JoinHostPort(h, port("sentinel_nodes["+strconv.Itoa(i)+"]", pair[1])))
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

	if u := str("redis_url"); u != "" {
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
	} else if h := str("redis_host"); h != "" {
		p := "6379"
		if pv, ok := r["redis_port"]; ok && pv != nil {
			p = port("redis_port", pv)
		}
		c.Addrs = net.JoinHostPort(h, p)
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
