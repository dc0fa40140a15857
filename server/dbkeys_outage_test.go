package server

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmedge/llmedge/keys/keystest"
)

// tcpProxy forwards loopback connections to a database; stop cuts
// every connection and refuses new ones (the database is gone, as the
// gateway sees it), start listens again on the same address.
type tcpProxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, target: target}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *tcpProxy) start() {
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(u, c); _ = u.Close() }()
			go func() { _, _ = io.Copy(c, u); _ = c.Close() }()
		}
	}()
}

func (p *tcpProxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

func readinessBody(t *testing.T, g *gateway) string {
	resp, err := http.Get(g.url() + "/health/readiness")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestDatabaseStoppedMidRun: with PostgreSQL unreachable, cached keys
// keep serving and paying, readiness says so, management calls get a
// clear 503; when it is back the spend kept meanwhile is written.
func TestDatabaseStoppedMidRun(t *testing.T) {
	raw := keystest.URL(t, "postgres")
	u, _ := url.Parse(raw)
	px := newTCPProxy(t, u.Host)
	u.Host = px.addr
	kc := openCache(t, u.String())
	t.Cleanup(func() { closeCache(t, kc) })
	up := newFakeOpenAI(t)
	g := startKeyGateway(t, pricedConfig(up.base()), kc)
	_, out := admin(t, g, "POST", "/key/generate", map[string]any{"max_budget": 100})
	key := out["key"].(string)
	if r := readinessBody(t, g); !strings.Contains(r, `"db":"connected"`) {
		t.Fatalf("readiness %s", r)
	}

	px.stop()
	waitFor(t, 10*time.Second, "readiness to show the database down", func() bool {
		return strings.Contains(readinessBody(t, g), `"db":"disconnected"`)
	})
	if r := readinessBody(t, g); strings.Contains(r, "postgres://") {
		t.Fatalf("readiness leaks the URL: %s", r)
	}
	for i := 0; i < 3; i++ {
		if st, _, _ := chatStatus(t, g, key, "m"); st != 200 {
			t.Fatalf("cached key during the outage: %d", st)
		}
	}
	st, body := admin(t, g, "POST", "/key/generate", map[string]any{})
	if st != 503 || !strings.Contains(body["error"].(map[string]any)["message"].(string), "unreachable") {
		t.Fatalf("management call during the outage: %d %v", st, body)
	}

	px.start()
	waitFor(t, 15*time.Second, "the spend kept meanwhile to be written", func() bool {
		_, info := admin(t, g, "GET", "/key/info?key="+key, nil)
		st, err := kc.Store().Spends(t.Context())
		if err != nil || info == nil {
			return false
		}
		for _, r := range st {
			if r.ID == info["key"] && r.Spend >= 3*answerCost-1e-9 {
				return true
			}
		}
		return false
	})
	waitFor(t, 5*time.Second, "readiness to show the database back", func() bool {
		return strings.Contains(readinessBody(t, g), `"db":"connected"`)
	})
}
