package transport

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Dialing a new upstream connection is the deepest moment of a request:
// the resolver, the net package's dialer, the runtime's timers and, for
// https, the whole TLS handshake stack up about 3 KiB (TCP) to well over
// 8 KiB (TLS) below the call path. It happens on the client connection's
// goroutine, and each of many concurrent streams holds an upstream
// connection of its own, so each dials. A goroutine's stack grows by
// doubling and is shrunk by the GC only when less than a quarter of it
// is in use, so one dial would leave the goroutine of a stream that then
// relays for minutes at 16 KiB or more instead of 8 KiB (server/
// stack_test.go). The dial (and handshake) therefore run on a goroutine
// of their own that ends with them; the caller waits. A dial costs tens
// of microseconds to milliseconds of network; the extra goroutine about
// one.

// dialer is what HostClient.DialTimeout gets for a pool of addr: a TCP
// dial, bounded by dialTimeout, then for TLS the handshake fasthttp
// would do (HostClient.TLSConfig with ServerName from addr, deadline
// writeTimeout from the start of the dial), all on a goroutine aside.
// fasthttp leaves a connection with a Handshake method as it is.
type dialer struct {
	hc           *fasthttp.HostClient
	tls          bool
	maxDial      time.Duration
	writeTimeout time.Duration
	// proxy is the forward proxy the pool's connections go through
	// (proxydial.go); nil dials addr directly.
	proxy *url.URL

	tlsOnce sync.Once
	tlsConf *tls.Config
	tlsErr  error
}

type dialResult struct {
	conn net.Conn
	err  error
}

// dialTimeout is the HostClient's DialTimeout.
func (d *dialer) dialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	if timeout <= 0 || timeout > d.maxDial {
		timeout = d.maxDial
	}
	done := make(chan dialResult, 1)
	go func() {
		c, err := d.dial(addr, timeout)
		done <- dialResult{c, err}
	}()
	r := <-done
	return r.conn, r.err
}

func (d *dialer) dial(addr string, timeout time.Duration) (net.Conn, error) {
	deadline := time.Now().Add(d.writeTimeout)
	var c, sock net.Conn
	var err error
	if d.proxy == nil {
		c, err = fasthttp.DialTimeout(addr, timeout)
		sock = c
	} else {
		c, sock, err = d.dialProxy(addr, timeout)
	}
	if err != nil {
		return nil, err
	}
	if !d.tls {
		return trackConn(c, sock), nil // idleprobe.go
	}
	conf, err := d.tlsConfig(addr)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	if d.writeTimeout == 0 {
		return trackConn(tls.Client(c, conf), sock), nil // fasthttp's way: handshake on first use
	}
	tc, err := handshake(c, conf, deadline)
	if err != nil {
		return nil, err
	}
	return trackConn(tc, sock), nil
}

// tlsConfig is fasthttp's per-address client TLS config: the
// HostClient's TLSConfig (none by default) with ServerName set from addr.
func (d *dialer) tlsConfig(addr string) (*tls.Config, error) {
	d.tlsOnce.Do(func() {
		c := &tls.Config{}
		if d.hc.TLSConfig != nil {
			c = d.hc.TLSConfig.Clone()
		}
		if c.ServerName == "" {
			host, _, err := net.SplitHostPort(addr)
			switch {
			case err == nil:
				c.ServerName = host
			case c.InsecureSkipVerify:
			default:
				d.tlsErr = fmt.Errorf("cannot determine tls server name from addr %q: %w", addr, err)
				return
			}
		}
		d.tlsConf = c
	})
	return d.tlsConf, d.tlsErr
}

// handshake is fasthttp's client TLS handshake on raw.
func handshake(raw net.Conn, conf *tls.Config, deadline time.Time) (net.Conn, error) {
	c := tls.Client(raw, conf)
	err := c.SetDeadline(deadline)
	if err == nil {
		err = c.Handshake()
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			err = fasthttp.ErrTLSHandshakeTimeout
		}
	}
	if err == nil {
		err = c.SetDeadline(time.Time{})
	}
	if err != nil {
		_ = raw.Close()
		return nil, err
	}
	return c, nil
}
