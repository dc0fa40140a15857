package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/egresstest"
	"github.com/llmedge/llmedge/upstream"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/openai/openai-go/v3"
)

// Egress (issue 18): upstreams reached through a real forward proxy
// (tinyproxy, started per test), over TLS with a private CA made in the
// test, with client certificates; failures named in OpenAI errors.

// startTLSFake is fakeOpenAI served over TLS with cert; with clientCAs
// it requires a client certificate signed by them (mTLS). It returns the
// fake and its https base URL.
func startTLSFake(t *testing.T, cert tls.Certificate, clientCAs *x509.CertPool) (*fakeOpenAI, string) {
	t.Helper()
	f := &fakeOpenAI{t: t, closed: make(chan struct{}, 16)}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conf := &tls.Config{Certificates: []tls.Certificate{cert}}
	if clientCAs != nil {
		conf.ClientCAs, conf.ClientAuth = clientCAs, tls.RequireAndVerifyClientCert
	}
	f.ln = raw
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serve), ReadHeaderTimeout: 5 * time.Second, ErrorLog: nil}
	go func() { _ = f.srv.Serve(tls.NewListener(raw, conf)) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = f.srv.Shutdown(ctx)
		_ = f.srv.Close()
	})
	return f, "https://" + raw.Addr().String() + "/v1"
}

// startEgressGateway loads yaml (with its os.environ/ references and the
// proxy variables read from env) into a real llmedge on loopback.
func startEgressGateway(t *testing.T, yaml string, env map[string]string) *gateway {
	t.Helper()
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := config.Parse([]byte(yaml), config.Options{Getenv: lookup})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return startGatewayWith(t, cfg, upstream.Options{LookupEnv: lookup})
}

func egressYAML(apiBase string, litellmSettings, params string) string {
	y := "model_list:\n  - model_name: m\n    litellm_params:\n      model: openai/gpt-4o\n      api_base: " + apiBase + "\n      api_key: sk-upstream-key\n"
	for l := range strings.SplitSeq(strings.TrimSpace(params), "\n") {
		if l != "" {
			y += "      " + l + "\n"
		}
	}
	y += "general_settings:\n  master_key: " + testMasterKey + "\n"
	if litellmSettings != "" {
		y += "litellm_settings:\n"
		for l := range strings.SplitSeq(strings.TrimSpace(litellmSettings), "\n") {
			y += "  " + l + "\n"
		}
	}
	return y
}

func chatOnce(t *testing.T, gw *gateway) (*openai.ChatCompletion, error) {
	t.Helper()
	c := sdk(gw, testMasterKey)
	p := userMsg("hi")
	p.Model = "m"
	return c.Chat.Completions.New(context.Background(), p)
}

// wantEgressError asserts an OpenAI error with status and code whose
// message holds each of want and none of the secrets.
func wantEgressError(t *testing.T, err error, status int, code string, want []string, secrets ...string) {
	t.Helper()
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("want an OpenAI error, got %v", err)
	}
	raw := apiErr.RawJSON()
	if apiErr.StatusCode != status || apiErr.Code != code {
		t.Fatalf("status %d code %q, want %d %q: %s", apiErr.StatusCode, apiErr.Code, status, code, raw)
	}
	for _, w := range want {
		if !strings.Contains(apiErr.Message, w) {
			t.Errorf("message %q does not say %q", apiErr.Message, w)
		}
	}
	for _, s := range secrets {
		if strings.Contains(raw, s) {
			t.Errorf("error body shows a secret %q: %s", s, raw)
		}
	}
}

func TestEgressPlainHTTPThroughProxyFromEnvironment(t *testing.T) {
	proxy := egresstest.StartTinyproxy(t, "alice", "pr0xy-pass")
	up := newFakeOpenAI(t)
	gw := startEgressGateway(t, egressYAML(up.base(), "", ""), map[string]string{"http_proxy": proxy.URL("alice", "pr0xy-pass")})
	for range 2 {
		if _, err := chatOnce(t, gw); err != nil {
			t.Fatal(err)
		}
	}
	seen := up.requests()
	if len(seen) != 2 || !strings.Contains(seen[0].Header.Get("Via"), "tinyproxy") {
		t.Fatalf("the upstream was not reached through the proxy: %d requests, Via %q", len(seen), seen[0].Header.Get("Via"))
	}
	if seen[0].Header.Get("Authorization") != "Bearer sk-upstream-key" {
		t.Errorf("upstream key lost on the way: %q", seen[0].Header.Get("Authorization"))
	}
	if !strings.Contains(proxy.Log(), up.ln.Addr().String()) {
		t.Errorf("the proxy's log does not name the upstream:\n%s", proxy.Log())
	}
}

func TestEgressHTTPSThroughConnectTunnel(t *testing.T) {
	proxy := egresstest.StartTinyproxy(t, "alice", "pr0xy-pass")
	ca := egresstest.NewCA(t, "corp")
	up, base := startTLSFake(t, ca.ServerCert(t, "127.0.0.1"), nil)
	// The explicit setting wins over the environment's dead proxy.
	gw := startEgressGateway(t, egressYAML(base, "ssl_verify: "+ca.BundlePath+"\nhttps_proxy: "+proxy.URL("alice", "pr0xy-pass"), ""),
		map[string]string{"HTTPS_PROXY": "http://127.0.0.1:1"})
	if _, err := chatOnce(t, gw); err != nil {
		t.Fatal(err)
	}
	// A stream through the tunnel, on the kept-alive connection.
	c := sdk(gw, testMasterKey)
	p := userMsg("hi")
	p.Model = "m"
	up.setHandler(streamWords([]string{"one", "two", "three"}, 0, nil))
	s := c.Chat.Completions.NewStreaming(context.Background(), p)
	var text strings.Builder
	for s.Next() {
		if ch := s.Current(); len(ch.Choices) > 0 {
			text.WriteString(ch.Choices[0].Delta.Content)
		}
	}
	if err := s.Err(); err != nil || text.String() != "one two three" {
		t.Fatalf("stream through the tunnel: %q, %v", text.String(), err)
	}
	tunnels := strings.Count(proxy.Log(), "CONNECT "+up.ln.Addr().String())
	if tunnels != 1 {
		t.Fatalf("want one CONNECT tunnel kept alive for both calls, the proxy saw %d:\n%s", tunnels, proxy.Log())
	}
}

func TestEgressNoProxyBypassesTheProxy(t *testing.T) {
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://bob:dead-pass@" + dead.Addr().String()
	_ = dead.Close() // nothing listens there: the proxy refuses
	up := newFakeOpenAI(t)

	gw := startEgressGateway(t, egressYAML(up.base(), "", ""), map[string]string{"HTTP_PROXY": deadURL, "NO_PROXY": "example.com, 127.0.0.1"})
	if _, err := chatOnce(t, gw); err != nil {
		t.Fatalf("NO_PROXY host went through the proxy: %v", err)
	}

	gw = startEgressGateway(t, egressYAML(up.base(), "", ""), map[string]string{"HTTP_PROXY": deadURL, "NO_PROXY": "example.com"})
	_, err = chatOnce(t, gw)
	wantEgressError(t, err, 503, "upstream_unavailable", []string{"forward proxy http://" + dead.Addr().String(), "connection refused"}, "dead-pass", "bob")
}

func TestEgressWrongProxyPassword(t *testing.T) {
	proxy := egresstest.StartTinyproxy(t, "alice", "pr0xy-pass")
	ca := egresstest.NewCA(t, "corp")
	_, base := startTLSFake(t, ca.ServerCert(t, "127.0.0.1"), nil)
	gw := startEgressGateway(t, egressYAML(base, "ssl_verify: "+ca.BundlePath, ""), map[string]string{"HTTPS_PROXY": proxy.URL("alice", "wr0ng-pass")})
	_, err := chatOnce(t, gw)
	wantEgressError(t, err, 502, "proxy_authentication_required", []string{"forward proxy http://" + proxy.Addr, "proxy credentials"}, "wr0ng-pass", "alice")

	// Plain HTTP without credentials: the proxy's 407 is not the upstream's.
	up := newFakeOpenAI(t)
	gw = startEgressGateway(t, egressYAML(up.base(), "", ""), map[string]string{"HTTP_PROXY": proxy.URL("", "")})
	_, err = chatOnce(t, gw)
	wantEgressError(t, err, 502, "proxy_authentication_required", []string{"forward proxy http://" + proxy.Addr, "407"})
	if n := len(up.requests()); n != 0 {
		t.Fatalf("the upstream saw %d requests past a proxy that refused", n)
	}
}

func TestEgressCertificateProblems(t *testing.T) {
	ca := egresstest.NewCA(t, "corp")
	_, base := startTLSFake(t, ca.ServerCert(t, "127.0.0.1"), nil)
	// No bundle: the private CA is unknown.
	_, err := chatOnce(t, startEgressGateway(t, egressYAML(base, "", ""), nil))
	wantEgressError(t, err, 502, "upstream_certificate_error", []string{"unknown authority", "ssl_verify"})

	// A certificate for another name.
	_, other := startTLSFake(t, ca.ServerCert(t, "api.example.invalid"), nil)
	_, err = chatOnce(t, startEgressGateway(t, egressYAML(other, "ssl_verify: "+ca.BundlePath, ""), nil))
	wantEgressError(t, err, 502, "upstream_certificate_error", []string{"not valid for the host name"})

	// ssl_verify: false per deployment accepts it, with a warning.
	gw := startEgressGateway(t, egressYAML(other, "", "ssl_verify: false"), nil)
	if _, err := chatOnce(t, gw); err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(gw.reg.Warnings(), "\n"); !strings.Contains(w, "model_list[0].litellm_params.ssl_verify is false") {
		t.Fatalf("no warning for ssl_verify: false: %q", w)
	}
}

func TestEgressClientCertificateThroughTunnel(t *testing.T) {
	proxy := egresstest.StartTinyproxy(t, "", "")
	ca := egresstest.NewCA(t, "corp")
	clients := egresstest.NewCA(t, "clients")
	_, base := startTLSFake(t, ca.ServerCert(t, "127.0.0.1"), clients.Pool)
	env := map[string]string{"HTTPS_PROXY": proxy.URL("", "")}

	_, err := chatOnce(t, startEgressGateway(t, egressYAML(base, "ssl_verify: "+ca.BundlePath, ""), env))
	wantEgressError(t, err, 502, "upstream_certificate_error", []string{"client certificate"})

	cert, key := clients.ClientCertFiles(t, "llmedge")
	gw := startEgressGateway(t, egressYAML(base, "ssl_verify: "+ca.BundlePath, "ssl_certificate: "+cert+"\nssl_certificate_key: "+key), env)
	if _, err := chatOnce(t, gw); err != nil {
		t.Fatal(err)
	}
}

func TestEgressVertexTokenFetchThroughProxy(t *testing.T) {
	proxy := egresstest.StartTinyproxy(t, "alice", "pr0xy-pass")
	up := providertest.NewVertex(t)
	d := dep(0, "gemini", "vertex_ai/gemini-2.5-flash", up.URL(), "")
	d.Params = map[string]any{"vertex_project": "my-proj", "vertex_location": "europe-west4", "vertex_credentials": string(up.ServiceAccountJSON())}
	proxyURL := proxy.URL("alice", "pr0xy-pass")
	d.Egress = &config.Egress{HTTPProxy: &proxyURL} // per deployment
	gw := startGatewayWith(t, testConfig(d), upstream.Options{})
	p := userMsg("hi")
	p.Model = "gemini"
	c := sdk(gw, testMasterKey)
	if _, err := c.Chat.Completions.New(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	var token, chat bool
	for _, r := range up.Requests() {
		via := strings.Contains(r.Header.Get("Via"), "tinyproxy")
		if !via {
			t.Errorf("%s reached the upstream directly", r.Path)
		}
		token = token || r.Path == "/token"
		chat = chat || strings.HasSuffix(r.Path, "/chat/completions")
	}
	if !token || !chat {
		t.Fatalf("token fetch %v, chat %v: want both through the proxy", token, chat)
	}
}

func TestEgressRedirectReevaluatedAgainstNoProxy(t *testing.T) {
	proxy := egresstest.StartTinyproxy(t, "", "")
	final := newFakeOpenAI(t)
	first := newFakeOpenAI(t)
	first.setHandler(func(w http.ResponseWriter, r *http.Request, _ []byte) {
		http.Redirect(w, r, final.base()+"/chat/completions", http.StatusTemporaryRedirect)
	})
	gw := startEgressGateway(t, egressYAML(first.base(), "", ""),
		map[string]string{"HTTP_PROXY": proxy.URL("", ""), "NO_PROXY": final.ln.Addr().String()})
	if _, err := chatOnce(t, gw); err != nil {
		t.Fatal(err)
	}
	f, l := first.requests(), final.requests()
	if len(f) != 1 || len(l) != 1 {
		t.Fatalf("requests: first %d, final %d", len(f), len(l))
	}
	if !strings.Contains(f[0].Header.Get("Via"), "tinyproxy") || l[0].Header.Get("Via") != "" {
		t.Fatalf("want the first host through the proxy and the NO_PROXY one direct: Via %q, %q", f[0].Header.Get("Via"), l[0].Header.Get("Via"))
	}
}

func TestEgressClientDisconnectCancelsThroughTunnel(t *testing.T) {
	proxy := egresstest.StartTinyproxy(t, "", "")
	ca := egresstest.NewCA(t, "corp")
	up, base := startTLSFake(t, ca.ServerCert(t, "127.0.0.1"), nil)
	gate := make(chan struct{}) // never opened: the stream stalls after its first word
	up.setHandler(streamWords([]string{"one", "two"}, 0, gate))
	gw := startEgressGateway(t, egressYAML(base, "ssl_verify: "+ca.BundlePath, ""), map[string]string{"HTTPS_PROXY": proxy.URL("", "")})
	ctx, cancel := context.WithCancel(context.Background())
	c := sdk(gw, testMasterKey)
	p := userMsg("hi")
	p.Model = "m"
	s := c.Chat.Completions.NewStreaming(ctx, p)
	if !s.Next() {
		t.Fatalf("no first chunk through the tunnel: %v", s.Err())
	}
	cancel()
	_ = s.Close()
	select {
	case <-up.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream stream through the tunnel was not cancelled when the client left")
	}
}
