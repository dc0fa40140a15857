package server

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// deadlineConn counts the deadlines set on a connection (each one is a
// runtime timer update on a real socket).
type deadlineConn struct {
	net.Conn
	sets *atomic.Int64
}

func (c deadlineConn) SetDeadline(t time.Time) error {
	c.sets.Add(1)
	return c.Conn.SetDeadline(t)
}

func (c deadlineConn) SetReadDeadline(t time.Time) error {
	c.sets.Add(1)
	return c.Conn.SetReadDeadline(t)
}

func (c deadlineConn) SetWriteDeadline(t time.Time) error {
	c.sets.Add(1)
	return c.Conn.SetWriteDeadline(t)
}

type deadlineListener struct {
	net.Listener
	sets *atomic.Int64
}

func (l deadlineListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return deadlineConn{c, l.sets}, nil
}

// The deadlines a kept-alive non-stream request sets, on the client's
// connection and on the upstream's, counted: each is a runtime timer
// update (internal/poll setDeadlineImpl, timer.modify) on the request
// path.
func TestDeadlineSetsPerRequest(t *testing.T) {
	var client, up atomic.Int64
	upLn := fasthttputil.NewInmemoryListener()
	upSrv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		ctx.SetBody(benchAnswer)
	}}
	go func() { _ = upSrv.Serve(upLn) }()
	d := dep(0, "m", "openai/up-m", "http://upstream.local/v1", "sk-up")
	cfg := testConfig(d)
	reg, err := upstream.NewRegistry(cfg, upstream.Options{Pool: upstream.PoolSettings{Dial: func(string) (net.Conn, error) {
		c, err := upLn.Dial()
		return deadlineConn{c, &up}, err
	}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := New(cfg, reg, Options{})
	ln := fasthttputil.NewInmemoryListener()
	go func() { _ = srv.Serve(deadlineListener{ln, &client}) }()
	t.Cleanup(func() { _ = ln.Close(); _ = upLn.Close() })
	hc := &fasthttp.HostClient{Addr: "llmedge.local", Dial: func(string) (net.Conn, error) { return ln.Dial() }, MaxConns: 1}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	req.SetRequestURI("http://llmedge.local/v1/chat/completions")
	req.Header.SetMethod("POST")
	req.Header.Set("Authorization", "Bearer "+testMasterKey)
	req.SetBody([]byte(`{"messages":[{"role":"user","content":"hi"}],"model":"m"}`))
	do := func() {
		if err := hc.Do(req, resp); err != nil || resp.StatusCode() != 200 {
			t.Fatalf("%v %d %s", err, resp.StatusCode(), resp.Body())
		}
	}
	do() // the connections are open and kept
	c0, u0 := client.Load(), up.Load()
	const n = 50
	for range n {
		do()
	}
	perClient := float64(client.Load()-c0) / n
	perUp := float64(up.Load()-u0) / n
	t.Logf("deadlines set per request: client connection %.2f, upstream connection %.2f", perClient, perUp)
	// Client: fasthttp's idle wait, its read timeout at the first byte
	// and its write timeout (the answer's deadline, writestall.go);
	// upstream: one deadline for the request's write and the answer.
	// (In memory a request the disconnect watcher's goroutine saw, 25
	// ms after it began, sets two more.)
	if perClient > 3.2 || perUp > 1 {
		t.Errorf("want at most 3 and 1")
	}
}
