package transport

import (
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// PoolSettings size the per-host connection pools. Defaults are chosen
// for LLM traffic: few hosts, long reads and many idle streams.
type PoolSettings struct {
	// MaxConns per upstream host. Default 16384 (thousands of concurrent
	// streams to one provider are normal for a gateway).
	MaxConns int
	// MaxConnWait is how long a request waits for a free connection when
	// MaxConns are busy. Default 5s.
	MaxConnWait time.Duration
	// IdleTimeout closes keep-alive connections idle this long. Default 90s
	// (providers close idle connections after 2-5 minutes; we go first so
	// a request never meets a half-closed socket).
	IdleTimeout time.Duration
	// DialTimeout bounds TCP connect plus TLS handshake. Default 10s.
	DialTimeout time.Duration
	// WriteTimeout bounds sending one request. Default 30s.
	WriteTimeout time.Duration
	// ReadTimeout, when set, bounds each silence while reading a
	// non-stream answer's body once its headers arrived (a transfer that
	// stalls). Default 0: only the call's timeout applies, because a
	// model may think for minutes and the deployment's timeout already
	// bounds the whole call; streams use stream_timeout.
	ReadTimeout time.Duration
	// ReadBufferSize per connection; also the largest response header
	// accepted. A streaming connection holds it for the whole stream.
	// Default 8 KiB (provider headers, Cloudflare's included, stay
	// well under it).
	ReadBufferSize int
	// Dial opens connections; nil dials TCP (tests and benchmarks plug
	// in-memory listeners here; Egress is then not applied).
	Dial func(addr string) (net.Conn, error)
	// Egress is the forward proxy and TLS settings of the pool's
	// connections (egress.go); nil dials directly with Go's TLS
	// defaults.
	Egress *Egress
}

// WithDefaults fills in the defaults of unset fields.
func (s PoolSettings) WithDefaults() PoolSettings {
	if s.MaxConns <= 0 {
		s.MaxConns = 16384
	}
	if s.MaxConnWait <= 0 {
		s.MaxConnWait = 5 * time.Second
	}
	if s.IdleTimeout <= 0 {
		s.IdleTimeout = 90 * time.Second
	}
	if s.DialTimeout <= 0 {
		s.DialTimeout = 10 * time.Second
	}
	if s.WriteTimeout <= 0 {
		s.WriteTimeout = 30 * time.Second
	}
	if s.ReadBufferSize <= 0 {
		s.ReadBufferSize = 8 << 10
	}
	return s
}

// Pool is one upstream host's pool. Its connections are handed out
// whole (not through HostClient.Do) so a call can be cancelled from
// another goroutine at any point: waiting for headers, mid-body, or
// between retries.
type Pool interface {
	acquire(wait time.Duration) (pooledConn, error)
	// connOf, reusedOf and release serve pooledConn for the
	// connections the pool handed out.
	connOf(cc any) net.Conn
	reusedOf(cc any) bool
	release(cc any, reuse bool)
	client() *fasthttp.HostClient
	// settings are the pool's settings (a redirect's pool gets the same).
	settings() PoolSettings
	// requestWriter is where a request to the pool's host is written on
	// conn: conn itself, or through a plain-HTTP forward proxy the
	// absolute-form writer.
	requestWriter(conn net.Conn) net.Conn
	// forwardProxy is the proxy's scheme://host:port ("" for direct).
	forwardProxy() string
}

// pooledConn is one connection taken from a Pool: the pool and
// fasthttp's connection, whose type is unexported (a pointer, so held
// in an interface without allocating). A value, not a pooled handle: no
// pool round trip per exchange. The zero value holds nothing.
type pooledConn struct {
	p  Pool
	cc any
}

// Conn is the connection's net.Conn.
func (c pooledConn) Conn() net.Conn { return c.p.connOf(c.cc) }

// reused reports whether the connection served an earlier exchange
// (came from the idle pool rather than a fresh dial).
func (c pooledConn) reused() bool { return c.p.reusedOf(c.cc) }

// put returns the connection to its pool (reuse) or closes it.
func (c pooledConn) put(reuse bool) { c.p.release(c.cc, reuse) }

// hostPool adapts a fasthttp.HostClient. It is generic only because
// fasthttp's connection type is unexported: the type parameter is
// inferred from HostClient's methods and never named.
type hostPool[C fasthttpConn] struct {
	hc  *fasthttp.HostClient
	set PoolSettings
	// origin and proxyAuth are set when requests go to a plain-HTTP
	// forward proxy in absolute form (proxydial.go).
	origin, proxyAuth string
	proxy             string // RedactProxy of the forward proxy, "" for direct
	acq               func(time.Duration, bool) (C, error)
	rel               func(C)
	cls               func(C)
}

// fasthttpConn is what llmedge uses of fasthttp's (unexported)
// clientConn.
type fasthttpConn interface {
	Conn() net.Conn
	CreatedTime() time.Time
	LastUseTime() time.Time
}

func (p *hostPool[C]) connOf(cc any) net.Conn { return cc.(C).Conn() }

// reusedOf: fasthttp stamps LastUseTime when a connection goes back to
// the pool; a fresh one has only CreatedTime.
func (p *hostPool[C]) reusedOf(cc any) bool {
	c := cc.(C)
	return c.LastUseTime().After(c.CreatedTime())
}

func (p *hostPool[C]) release(cc any, reuse bool) {
	c := cc.(C)
	if reuse {
		if t, ok := c.Conn().(*trackedConn); ok {
			t.idle() // probed while it idles (idleprobe.go)
		}
		p.rel(c)
	} else {
		p.cls(c)
	}
}

func newHostPool[C fasthttpConn](hc *fasthttp.HostClient, acq func(time.Duration, bool) (C, error), rel, cls func(C)) *hostPool[C] {
	return &hostPool[C]{hc: hc, acq: acq, rel: rel, cls: cls}
}

func (p *hostPool[C]) acquire(wait time.Duration) (pooledConn, error) {
	cc, err := p.acq(wait, false)
	for err == nil {
		t, ok := cc.Conn().(*trackedConn)
		if !ok || t.busy() {
			break
		}
		// The probe found the upstream had closed it while it idled.
		p.cls(cc)
		cc, err = p.acq(wait, false)
	}
	if err != nil {
		return pooledConn{}, err
	}
	return pooledConn{p, cc}, nil
}

func (p *hostPool[C]) client() *fasthttp.HostClient { return p.hc }

func (p *hostPool[C]) settings() PoolSettings { return p.set }

func (p *hostPool[C]) forwardProxy() string { return p.proxy }

func (p *hostPool[C]) requestWriter(conn net.Conn) net.Conn {
	if p.origin == "" {
		return conn
	}
	return &absoluteForm{Conn: conn, origin: p.origin, auth: p.proxyAuth}
}

// pools holds one Pool per scheme+host:port, shared by every
// deployment on that host.
type Pools struct {
	mu       sync.Mutex
	byHost   map[string]Pool
	settings PoolSettings
}

// NewPools returns empty pools whose connections get settings s.
func NewPools(s PoolSettings) *Pools {
	return &Pools{byHost: make(map[string]Pool), settings: s.WithDefaults()}
}

// Get returns the pool for addr ("host:port") over TLS or not.
func (ps *Pools) Get(addr string, tls bool) Pool { return ps.GetWith(addr, tls, ps.settings) }

// GetWith returns the pool for addr with settings s; deployments with
// the same host and settings share it.
func (ps *Pools) GetWith(addr string, tls bool, s PoolSettings) Pool {
	key := addr
	if tls {
		key = "https://" + addr
	}
	if s.Key() != ps.settings.Key() {
		key += "|" + s.Key()
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if p, ok := ps.byHost[key]; ok {
		return p
	}
	hc := &fasthttp.HostClient{
		Addr:                          addr,
		IsTLS:                         tls,
		Name:                          "llmedge",
		MaxConns:                      s.MaxConns,
		MaxConnWaitTimeout:            s.MaxConnWait,
		MaxIdleConnDuration:           s.IdleTimeout,
		ReadBufferSize:                s.ReadBufferSize,
		WriteBufferSize:               4 << 10,
		WriteTimeout:                  s.WriteTimeout,
		DisableHeaderNamesNormalizing: false,
		NoDefaultUserAgentHeader:      true,
	}
	var proxy *url.URL
	if s.Egress != nil && s.Dial == nil {
		hc.TLSConfig = s.Egress.TLS
		proxy = s.Egress.ProxyFor(addr, tls)
	}
	if s.Dial != nil {
		hc.Dial = func(addr string) (net.Conn, error) {
			c, err := s.Dial(addr)
			if err != nil {
				return nil, err
			}
			return trackConn(c, c), nil
		}
	} else {
		d := &dialer{hc: hc, tls: tls, maxDial: s.DialTimeout, writeTimeout: s.WriteTimeout, proxy: proxy}
		hc.DialTimeout = d.dialTimeout // dial.go: off the caller's stack
	}
	p := newHostPool(hc, hc.AcquireConn, hc.ReleaseConn, hc.CloseConn)
	p.set = s
	p.proxy = RedactProxy(proxy)
	if proxy != nil && !tls && (proxy.Scheme == "http" || proxy.Scheme == "https") {
		p.origin = "http://" + addr
		if a := proxyAuth(proxy); a != "" {
			p.proxyAuth = "Proxy-Authorization: " + a + "\r\n"
		}
	}
	ps.byHost[key] = p
	return p
}

// Settings are the pools' default settings, defaults filled in.
func (ps *Pools) Settings() PoolSettings { return ps.settings }

// Key identifies settings for pool sharing (Dial is per Registry; an
// Egress by its ID).
func (s PoolSettings) Key() string {
	k := fmt.Sprintf("%d|%s|%s|%s|%s|%d", s.MaxConns, s.MaxConnWait, s.IdleTimeout, s.DialTimeout, s.WriteTimeout, s.ReadBufferSize)
	if s.Egress != nil {
		k += "|egress:" + s.Egress.ID
	}
	return k
}
