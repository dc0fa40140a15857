package server

import (
	"crypto/tls"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/egresstest"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// BenchmarkEgress is the cost of a forward proxy on the hot path, in one
// run: the same non-stream call to a loopback upstream, direct and
// through tinyproxy (plain HTTP in absolute form; HTTPS through a
// kept-alive CONNECT tunnel). cpu-us/op is this process's CPU (client,
// llmedge and fake upstream; tinyproxy runs apart), so the difference
// between lanes is llmedge's.
//
//	go test -run '^$' -bench BenchmarkEgress -benchtime 3000x ./server
func BenchmarkEgress(b *testing.B) {
	proxy := egresstest.StartTinyproxy(b, "", "")
	ca := egresstest.NewCA(b, "bench")
	plain := benchUpstream(b, nil)
	tlsUp := benchUpstream(b, &tls.Config{Certificates: []tls.Certificate{ca.ServerCert(b, "127.0.0.1")}})
	for _, c := range []struct {
		name, base string
		egress     config.Egress
	}{
		{"http/direct", "http://" + plain + "/v1", config.Egress{}},
		{"http/proxy", "http://" + plain + "/v1", config.Egress{HTTPProxy: new(proxy.URL("", ""))}},
		{"https/direct", "https://" + tlsUp + "/v1", config.Egress{SSLVerify: ca.BundlePath}},
		{"https/tunnel", "https://" + tlsUp + "/v1", config.Egress{SSLVerify: ca.BundlePath, HTTPSProxy: new(proxy.URL("", ""))}},
	} {
		b.Run(c.name, func(b *testing.B) {
			cfg := testConfig(dep(0, "m", "openai/up-m", c.base, "sk-up"))
			cfg.LiteLLM.Egress = c.egress
			reg, err := upstream.NewRegistry(cfg, upstream.Options{LookupEnv: func(string) (string, bool) { return "", false }})
			if err != nil {
				b.Fatal(err)
			}
			srv := New(cfg, reg, Options{})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			go func() { _ = srv.Serve(ln) }()
			defer func() { _ = ln.Close() }()
			client := &fasthttp.HostClient{Addr: ln.Addr().String(), MaxConns: 64}
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			req.SetRequestURI("http://" + ln.Addr().String() + "/v1/chat/completions")
			req.Header.SetMethod("POST")
			req.Header.Set("Authorization", "Bearer "+testMasterKey)
			req.SetBody([]byte(`{"messages":[{"role":"user","content":"What is the weather in Paris today?"}],"model":"m"}`))
			do := func() {
				if err := client.DoTimeout(req, resp, 10*time.Second); err != nil || resp.StatusCode() != 200 {
					b.Fatalf("%v %d %s", err, resp.StatusCode(), resp.Body())
				}
			}
			do() // the pool's first connection (and tunnel)
			b.ReportAllocs()
			start := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				do()
			}
			b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N), "cpu-us/op")
		})
	}
}

// benchUpstream serves benchAnswer on loopback (over TLS with conf).
func benchUpstream(b *testing.B, conf *tls.Config) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(benchAnswer)
	}), ReadHeaderTimeout: 5 * time.Second}
	if conf != nil {
		go func() { _ = srv.Serve(tls.NewListener(ln, conf)) }()
	} else {
		go func() { _ = srv.Serve(ln) }()
	}
	b.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}
