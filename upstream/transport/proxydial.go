package transport

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/valyala/fasthttp"
)

// Through a forward proxy (Egress): an HTTPS upstream is reached through
// a CONNECT tunnel, then the TLS handshake with the upstream runs inside
// it, so the pool's keep-alive connections are tunnels; a plain-HTTP
// upstream's pool dials the proxy itself and each request goes out in
// absolute form ("POST http://host/path HTTP/1.1") with the proxy's
// credentials (absoluteForm). An https:// proxy is reached over TLS
// first. The tunnel costs a round trip to the proxy per new connection
// and nothing per request once a connection is pooled.

// ProxyError is a failure to get through the forward proxy: it could
// not be reached, or it refused the CONNECT (Status, e.g. 407). Proxy is
// the proxy's scheme://host:port, never its credentials.
type ProxyError struct {
	Proxy  string
	Status int
	Err    error
}

func (e *ProxyError) Error() string {
	switch {
	case e.Status == http.StatusProxyAuthRequired, e.Status == http.StatusUnauthorized:
		// tinyproxy answers a CONNECT with wrong credentials 401.
		return fmt.Sprintf("forward proxy %s answered %d %s: check the proxy credentials", e.Proxy, e.Status, http.StatusText(e.Status))
	case e.Status != 0:
		return fmt.Sprintf("forward proxy %s answered %d %s to CONNECT", e.Proxy, e.Status, http.StatusText(e.Status))
	}
	return "forward proxy " + e.Proxy + ": " + e.Err.Error()
}

func (e *ProxyError) Unwrap() error { return e.Err }

// dialProxy opens a connection to addr through the dialer's proxy: conn
// carries the upstream's bytes (a tunnel for TLS upstreams), sock is the
// TCP socket beneath it (for the idle probe).
func (d *dialer) dialProxy(addr string, timeout time.Duration) (conn, sock net.Conn, err error) {
	p := d.proxy
	deadline := time.Now().Add(timeout)
	sock, err = fasthttp.DialTimeout(proxyAddr(p), timeout)
	if err != nil {
		return nil, nil, &ProxyError{Proxy: RedactProxy(p), Err: err}
	}
	conn = sock
	if p.Scheme == "https" {
		conf := &tls.Config{ServerName: p.Hostname()}
		if d.hc.TLSConfig != nil {
			conf = d.hc.TLSConfig.Clone()
			conf.ServerName = p.Hostname()
		}
		if conn, err = handshake(sock, conf, deadline); err != nil {
			return nil, nil, &ProxyError{Proxy: RedactProxy(p), Err: err}
		}
	}
	if !d.tls {
		return conn, sock, nil // requests go out in absolute form
	}
	conn, err = connectTunnel(conn, addr, p, deadline)
	if err != nil {
		_ = sock.Close()
		return nil, nil, err
	}
	return conn, sock, nil
}

// connectTunnel asks the proxy on c for a tunnel to addr.
func connectTunnel(c net.Conn, addr string, p *url.URL, deadline time.Time) (net.Conn, error) {
	fail := func(status int, err error) error { return &ProxyError{Proxy: RedactProxy(p), Status: status, Err: err} }
	if err := c.SetDeadline(deadline); err != nil {
		return nil, fail(0, err)
	}
	var req bytes.Buffer
	req.WriteString("CONNECT " + addr + " HTTP/1.1\r\nHost: " + addr + "\r\n")
	if a := proxyAuth(p); a != "" {
		req.WriteString("Proxy-Authorization: " + a + "\r\n")
	}
	req.WriteString("\r\n")
	if _, err := c.Write(req.Bytes()); err != nil {
		return nil, fail(0, err)
	}
	br := bufio.NewReaderSize(c, 1024)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			err = ErrTimeout
		}
		return nil, fail(0, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fail(resp.StatusCode, nil)
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		return nil, fail(0, err)
	}
	if br.Buffered() > 0 {
		return &bufferedConn{Conn: c, r: br}, nil
	}
	return c, nil
}

// bufferedConn is a tunnel whose first bytes the CONNECT reader already
// buffered.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) {
	if b.r.Buffered() > 0 {
		return b.r.Read(p)
	}
	return b.Conn.Read(p)
}

// absoluteForm writes one request to a plain-HTTP forward proxy: the
// request line's target in absolute form and the proxy's credentials.
// fasthttp writes the request head in one Write (its buffer holds it, or
// it goes out whole), so the first Write holds the request line.
type absoluteForm struct {
	net.Conn
	origin string // "http://host:port"
	auth   string // "Proxy-Authorization: ...\r\n" or ""
	done   bool
}

func (a *absoluteForm) Write(p []byte) (int, error) {
	if a.done {
		return a.Conn.Write(p)
	}
	a.done = true
	sp := bytes.IndexByte(p, ' ')
	eol := bytes.Index(p, []byte("\r\n"))
	if sp < 0 || eol < sp || len(p) <= sp+1 || p[sp+1] != '/' {
		return a.Conn.Write(p)
	}
	head := make([]byte, 0, len(p)+len(a.origin)+len(a.auth))
	head = append(head, p[:sp+1]...)
	head = append(head, a.origin...)
	head = append(head, p[sp+1:eol+2]...)
	head = append(head, a.auth...)
	head = append(head, p[eol+2:]...)
	if _, err := a.Conn.Write(head); err != nil {
		return 0, err
	}
	return len(p), nil
}
