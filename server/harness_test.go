package server

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/llmedge/llmedge/internal/wait"
	"github.com/openai/openai-go/v3"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"bytes"
	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/openai/openai-go/v3/option"
	"log/slog"
	"math"
	"sort"
	"strconv"
)

const testMasterKey = "sk-master-test-1234"

// seenRequest is what a fake upstream received.
type seenRequest struct {
	Path   string
	Header http.Header
	Body   []byte
}

// fakeOpenAI is an upstream that speaks OpenAI's chat completions wire
// format (JSON and SSE), written from OpenAI's API reference. Behaviour
// is chosen per request by the test through handle.
type fakeOpenAI struct {
	t      *testing.T
	srv    *http.Server
	ln     net.Listener
	mu     sync.Mutex
	seen   []seenRequest
	handle func(w http.ResponseWriter, r *http.Request, body []byte)
	// closed receives one value when a request's client (llmedge) went
	// away before the handler finished.
	closed chan struct{}
}

func newFakeOpenAI(t *testing.T) *fakeOpenAI {
	t.Helper()
	f := &fakeOpenAI{t: t, closed: make(chan struct{}, 16)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.ln = ln
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = f.srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = f.srv.Shutdown(ctx)
		_ = f.srv.Close()
	})
	return f
}

func (f *fakeOpenAI) base() string { return "http://" + f.ln.Addr().String() + "/v1" }

func (f *fakeOpenAI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.seen = append(f.seen, seenRequest{Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	h := f.handle
	f.mu.Unlock()
	if h == nil {
		h = answerJSON("Hello from the fake upstream.")
	}
	h(w, r, body)
	if r.Context().Err() != nil {
		f.closed <- struct{}{}
	}
}

func (f *fakeOpenAI) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.seen...)
}

func (f *fakeOpenAI) setHandler(h func(w http.ResponseWriter, r *http.Request, body []byte)) {
	f.mu.Lock()
	f.handle = h
	f.mu.Unlock()
}

// upstreamModel, answerJSON and streamWords are providertest's fake
// OpenAI API (RequestModel, OpenAIAnswer, OpenAIStream).
var (
	upstreamModel = providertest.RequestModel
	answerJSON    = providertest.OpenAIAnswer
	streamWords   = providertest.OpenAIStream
)

// gateway is a real llmedge server on loopback.
type gateway struct {
	srv  *Server
	reg  *upstream.Registry
	addr string
}

func (g *gateway) url() string { return "http://" + g.addr }

func startGateway(t *testing.T, cfg *config.Config) *gateway {
	t.Helper()
	reg, err := upstream.NewRegistry(cfg, upstream.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatalf("registry: %v", err)
	}
	srv := New(cfg, reg, Options{KeepConnBuffers: keepConnBuffersInTests})
	base := serveOnLoopback(t, srv)
	return &gateway{srv: srv, reg: reg, addr: strings.TrimPrefix(base, "http://")}
}

// serveOnLoopback runs srv on a free loopback port until the test ends
// and returns its base URL.
func serveOnLoopback(t *testing.T, srv *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return "http://" + ln.Addr().String()
}

// dep builds a deployment the way the config loader would.
func dep(i int, modelName, model, apiBase, apiKey string) *config.Deployment {
	provider, up, _ := strings.Cut(model, "/")
	return &config.Deployment{Index: i, ModelName: modelName, ID: fmt.Sprintf("%s-%d", modelName, i), Model: model,
		Provider: provider, UpstreamModel: up, APIBase: apiBase, APIKey: apiKey}
}

func testConfig(deps ...*config.Deployment) *config.Config {
	return &config.Config{Deployments: deps, General: config.GeneralSettings{MasterKey: testMasterKey}}
}

func sdk(g *gateway, key string) openai.Client {
	return openai.NewClient(option.WithBaseURL(g.url()+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0),
		option.WithRequestTimeout(20*time.Second))
}

func userMsg(text string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(text)}}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	wait.For(t, d, what, cond)
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startObserved is startGateway with server options and a JSON log
// captured in the returned buffer.
func startObserved(t *testing.T, cfg *config.Config, opts Options) (*gateway, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	}
	opts.Registry.LookupEnv = func(string) (string, bool) { return "", false }
	reg, err := upstream.NewRegistry(cfg, opts.Registry)
	if err != nil {
		t.Fatalf("registry: %v", err)
	}
	opts.KeepConnBuffers = opts.KeepConnBuffers || keepConnBuffersInTests
	srv := New(cfg, reg, opts)
	base := serveOnLoopback(t, srv)
	return &gateway{srv: srv, reg: reg, addr: strings.TrimPrefix(base, "http://")}, logs
}

// scrape reads /metrics into series -> value.
func scrape(t *testing.T, gw *gateway, headers ...string) map[string]float64 {
	t.Helper()
	resp := rawRequest(t, gw, "GET", "/metrics", "", headers...)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics status %d: %s", resp.StatusCode, resp.Body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("/metrics content-type %q", ct)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(resp.Body, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("bad exposition line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad value in %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

func wantSeries(t *testing.T, m map[string]float64, series string, want float64) {
	t.Helper()
	got, ok := m[series]
	if !ok {
		var near []string
		fam, _, _ := strings.Cut(series, "{")
		for k := range m {
			if strings.HasPrefix(k, fam) {
				near = append(near, k)
			}
		}
		sort.Strings(near)
		t.Errorf("series %s missing; have:\n  %s", series, strings.Join(near, "\n  "))
		return
	}
	if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %v, want %v", series, got, want)
	}
}

// parseYAML loads a config written as YAML through the real loader.
func parseYAML(t *testing.T, src string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(src), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// jsonMap decodes an upstream body.
func jsonMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return m
}
