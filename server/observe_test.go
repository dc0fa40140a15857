package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream"
	"github.com/openai/openai-go/v3"
	"github.com/valyala/fasthttp"
)

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

var labelRE = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)

func TestMetricsAfterKnownTraffic(t *testing.T) {
	up := newFakeOpenAI(t)
	d0 := dep(0, "gpt-4o", "openai/gpt-4o", up.base(), "sk-upstream-secret")
	d0.ModelInfo = map[string]any{"input_cost_per_token": 2.5e-06, "output_cost_per_token": "1e-05"}
	mock := dep(1, "demo", "mock/demo", "", "")
	mock.MockResponse, mock.HasMockResponse = "one two three", true
	gw, _ := startObserved(t, testConfig(d0, mock), Options{})
	client := sdk(gw, testMasterKey)

	const nJSON, nStream, nMock = 3, 2, 2
	for i := 0; i < nJSON; i++ {
		p := userMsg("hi")
		p.Model = "gpt-4o"
		if _, err := client.Chat.Completions.New(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < nStream; i++ {
		p := userMsg("hi")
		p.Model = "gpt-4o"
		s := client.Chat.Completions.NewStreaming(context.Background(), p)
		for s.Next() {
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
	}
	// A pass-through stream whose client asked for usage: the upstream's
	// usage chunk is counted.
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}]}\n\n")
		fmt.Fprint(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":20,\"total_tokens\":120}}\n\ndata: [DONE]\n\n")
	})
	{
		p := userMsg("hi")
		p.Model = "gpt-4o"
		p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		s := client.Chat.Completions.NewStreaming(context.Background(), p)
		for s.Next() {
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
	}
	var mockPrompt int64
	for i := 0; i < nMock; i++ {
		p := userMsg("hi")
		p.Model = "demo"
		p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		s := client.Chat.Completions.NewStreaming(context.Background(), p)
		for s.Next() {
			if u := s.Current().Usage; u.PromptTokens > 0 {
				mockPrompt += u.PromptTokens
			}
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
	}
	// Refusals: bad key, unknown model, malformed body.
	if r := rawPost(t, gw, "/v1/chat/completions", `{"model":"gpt-4o"}`, "sk-wrong"); r.StatusCode != 401 {
		t.Fatalf("wrong key: %d", r.StatusCode)
	}
	if r := rawPost(t, gw, "/v1/chat/completions", `{"model":"secret-user-text","stream":true,"messages":[{"role":"user","content":"hi"}]}`, testMasterKey); r.StatusCode != 404 {
		t.Fatalf("unknown model: %d", r.StatusCode)
	}
	if r := rawPost(t, gw, "/v1/chat/completions", `{"model":`, testMasterKey); r.StatusCode != 400 {
		t.Fatalf("malformed: %d", r.StatusCode)
	}
	// The last stream's finish runs after the client saw [DONE].
	waitFor(t, 3*time.Second, "requests finished", func() bool { return gw.srv.InFlight() == 0 })

	m := scrape(t, gw)
	gpt := `model_name="gpt-4o",deployment="gpt-4o-0"`
	demo := `model_name="demo",deployment="demo-1"`
	wantSeries(t, m, `llmedge_requests_total{`+gpt+`,status="2xx",stream="false"}`, nJSON)
	wantSeries(t, m, `llmedge_requests_total{`+gpt+`,status="2xx",stream="true"}`, nStream+1)
	wantSeries(t, m, `llmedge_requests_total{`+demo+`,status="2xx",stream="true"}`, nMock)
	wantSeries(t, m, `llmedge_requests_total{model_name="",deployment="",status="4xx",stream="false"}`, 2)
	wantSeries(t, m, `llmedge_requests_total{model_name="",deployment="",status="4xx",stream="true"}`, 1)
	wantSeries(t, m, `llmedge_rejected_requests_total{reason="auth"}`, 1)
	wantSeries(t, m, `llmedge_rejected_requests_total{reason="model_not_found"}`, 1)
	wantSeries(t, m, `llmedge_rejected_requests_total{reason="bad_request"}`, 1)
	wantSeries(t, m, `llmedge_upstream_attempts_total{`+gpt+`}`, nJSON+nStream+1)
	wantSeries(t, m, `llmedge_request_duration_seconds_count{`+gpt+`,stream="false"}`, nJSON)
	wantSeries(t, m, `llmedge_request_duration_seconds_bucket{`+gpt+`,stream="false",le="+Inf"}`, nJSON)
	wantSeries(t, m, `llmedge_ttfb_seconds_count{`+gpt+`,stream="true"}`, nStream+1)
	wantSeries(t, m, `llmedge_overhead_seconds_count{`+gpt+`,stream="true"}`, nStream+1)
	// Fake upstream usage: 5 prompt + 6 completion tokens per JSON
	// answer, 100 + 20 in the usage chunk of the stream.
	wantSeries(t, m, `llmedge_prompt_tokens_total{model_name="gpt-4o",key="master"}`, 5*nJSON+100)
	wantSeries(t, m, `llmedge_completion_tokens_total{model_name="gpt-4o",key="master"}`, 6*nJSON+20)
	wantSeries(t, m, `llmedge_cost_usd_total{model_name="gpt-4o",key="master"}`, (5*nJSON+100)*2.5e-06+(6*nJSON+20)*1e-05)
	wantSeries(t, m, `llmedge_completion_tokens_total{model_name="demo",key="master"}`, 3*nMock)
	wantSeries(t, m, `llmedge_prompt_tokens_total{model_name="demo",key="master"}`, float64(mockPrompt))
	wantSeries(t, m, `llmedge_requests_in_flight`, 0)
	wantSeries(t, m, `llmedge_streams_open`, 0)
	wantSeries(t, m, `llmedge_deployment_in_flight{`+gpt+`}`, 0)
	wantSeries(t, m, `llmedge_deployment_available{`+demo+`}`, 1)

	// Overhead never exceeds the total.
	if m[`llmedge_overhead_seconds_sum{`+gpt+`,stream="false"}`] > m[`llmedge_request_duration_seconds_sum{`+gpt+`,stream="false"}`] {
		t.Error("overhead sum exceeds duration sum")
	}
	// Label values are bounded: only config names and fixed words.
	allowed := map[string]bool{"": true, "gpt-4o": true, "demo": true, "gpt-4o-0": true, "demo-1": true, "master": true,
		"true": true, "false": true, "2xx": true, "4xx": true, "auth": true, "model_not_found": true, "bad_request": true,
		"success": true, "failure": true, Version: true}
	for series := range m {
		if !strings.HasPrefix(series, "llmedge_") {
			continue
		}
		for _, lv := range labelRE.FindAllStringSubmatch(series, -1) {
			if lv[1] == "le" {
				continue
			}
			if !allowed[lv[2]] {
				t.Errorf("unexpected label value %s=%q in %s", lv[1], lv[2], series)
			}
		}
	}
}

func TestTimingHeadersOnEveryChatResponse(t *testing.T) {
	up := newFakeOpenAI(t)
	gw, _ := startObserved(t, testConfig(dep(0, "m", "openai/m", up.base(), "k")), Options{})
	check := func(name string, r rawResponse, modelID string) {
		t.Helper()
		if r.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no x-request-id", name)
		}
		total, err1 := strconv.ParseFloat(r.Header.Get("X-Llmedge-Response-Duration-Ms"), 64)
		over, err2 := strconv.ParseFloat(r.Header.Get("X-Llmedge-Overhead-Duration-Ms"), 64)
		if err1 != nil || err2 != nil || total < 0 || over < 0 || over > total {
			t.Errorf("%s: durations %q %q", name, r.Header.Get("X-Llmedge-Response-Duration-Ms"), r.Header.Get("X-Llmedge-Overhead-Duration-Ms"))
		}
		if got := r.Header.Get("X-Llmedge-Model-Id"); got != modelID {
			t.Errorf("%s: model id %q, want %q", name, got, modelID)
		}
	}
	body := `{"model":"m","messages":[{"role":"user","content":"x"}]}`
	check("json", rawPost(t, gw, "/v1/chat/completions", body, testMasterKey), "m-0")
	check("stream", rawPost(t, gw, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`, testMasterKey), "m-0")
	check("401", rawPost(t, gw, "/v1/chat/completions", body, "nope"), "")
	// The client's request id is kept.
	r := rawRequest(t, gw, "POST", "/v1/chat/completions", body, "Authorization: Bearer "+testMasterKey, "X-Request-Id: client-id-42")
	if got := r.Header.Get("X-Request-Id"); got != "client-id-42" {
		t.Errorf("x-request-id = %q", got)
	}
	// Upstream time is not llmedge's overhead.
	up.setHandler(func(w http.ResponseWriter, r *http.Request, b []byte) {
		time.Sleep(60 * time.Millisecond)
		answerJSON("slow")(w, r, b)
	})
	r = rawPost(t, gw, "/v1/chat/completions", body, testMasterKey)
	total, _ := strconv.ParseFloat(r.Header.Get("X-Llmedge-Response-Duration-Ms"), 64)
	over, _ := strconv.ParseFloat(r.Header.Get("X-Llmedge-Overhead-Duration-Ms"), 64)
	if total < 60 || over > total-55 {
		t.Errorf("slow upstream: total %vms overhead %vms; the 60ms upstream wait must not count as overhead", total, over)
	}
}

func TestAccessLogLine(t *testing.T) {
	up := newFakeOpenAI(t)
	gw, logs := startObserved(t, testConfig(dep(0, "m", "openai/m", up.base(), "k")), Options{ObserveOptions: ObserveOptions{AccessLog: true}})
	body := `{"model":"m","messages":[{"role":"user","content":"TOP-SECRET-PROMPT"}]}`
	rawRequest(t, gw, "POST", "/v1/chat/completions", body, "Authorization: Bearer "+testMasterKey, "X-Request-Id: rid-1")
	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `"msg":"request"`) {
			line = l
		}
	}
	for _, want := range []string{`"request_id":"rid-1"`, `"model_name":"m"`, `"deployment":"m-0"`, `"key":"master"`, `"status":200`,
		`"stream":false`, `"attempts":1`, `"ttfb_us":`, `"duration_us":`, `"overhead_us":`, `"upstream_us":`, `"prompt_tokens":5`, `"completion_tokens":6`} {
		if !strings.Contains(line, want) {
			t.Errorf("access log lacks %s: %s", want, line)
		}
	}
	if strings.Contains(logs.String(), "TOP-SECRET-PROMPT") || strings.Contains(logs.String(), "Hello from") {
		t.Error("message content reached the log")
	}
}

func TestMetricsRequireAuth(t *testing.T) {
	cfg := testConfig(dep(0, "m", "mock/m", "", ""))
	setSettings(cfg, "general_settings", map[string]any{"metrics_require_auth": true})
	gw, _ := startObserved(t, cfg, Options{})
	if r := rawRequest(t, gw, "GET", "/metrics", ""); r.StatusCode != 401 {
		t.Fatalf("unauthenticated /metrics: %d", r.StatusCode)
	}
	m := scrape(t, gw, "Authorization: Bearer "+testMasterKey)
	if _, ok := m["llmedge_requests_in_flight"]; !ok {
		t.Fatal("authenticated scrape lacks llmedge_requests_in_flight")
	}
}

func TestNoSecretInMetricsOrLogs(t *testing.T) {
	const upKey, master = "sk-upstream-SECRET-9f8e7d", "sk-master-SECRET-1a2b3c"
	up := newFakeOpenAI(t)
	d := dep(0, "m", "openai/m", up.base(), upKey)
	d.ExtraHeaders = []config.Header{{Name: "X-Org", Value: "org-SECRET-hdr"}}
	cfg := testConfig(d, dep(1, "down", "openai/x", "http://127.0.0.1:1/v1", upKey))
	cfg.General.MasterKey = master
	setSettings(cfg, "general_settings", map[string]any{"master_key": master})
	var loads int
	opts := Options{ObserveOptions: ObserveOptions{AccessLog: true, LoadConfig: func() (*config.Config, error) {
		loads++
		if loads == 1 {
			bad := testConfig(dep(0, "m", "openai/m", "ftp://nope", upKey))
			bad.General.MasterKey = master
			return bad, nil
		}
		return nil, errors.New("config: model_list[0].litellm_params.api_key: os.environ/KEY is not set")
	}}}
	logs := &syncBuffer{}
	opts.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	gw, _ := startObserved(t, cfg, opts)
	// The upstream echoes its key in an error; llmedge must scrub it.
	up.setHandler(func(w http.ResponseWriter, r *http.Request, b []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s","type":"invalid_request_error","code":"invalid_api_key"}}`, upKey)
	})
	body := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
	rawPost(t, gw, "/v1/chat/completions", body, master)
	rawPost(t, gw, "/v1/chat/completions", `{"model":"down","messages":[{"role":"user","content":"hi"}]}`, master)
	rawPost(t, gw, "/v1/chat/completions", body, master+"x")
	rawPost(t, gw, "/v1/chat/completions", `{"model":"m","stream":true}`, master)
	if r := rawPost(t, gw, "/config/reload", "", master); r.StatusCode != 400 {
		t.Fatalf("invalid reload: %d %s", r.StatusCode, r.Body)
	}
	if r := rawPost(t, gw, "/config/reload", "", master); r.StatusCode != 400 {
		t.Fatalf("failing reload: %d %s", r.StatusCode, r.Body)
	}
	waitFor(t, 3*time.Second, "requests finished", func() bool { return gw.srv.InFlight() == 0 })
	metricsText := rawRequest(t, gw, "GET", "/metrics", "").Body
	for _, secret := range []string{upKey, master, "org-SECRET-hdr", "SECRET"} {
		if strings.Contains(metricsText, secret) {
			t.Errorf("/metrics contains %q", secret)
		}
		if strings.Contains(logs.String(), secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "config reload rejected") {
		t.Error("rejected reload not logged")
	}
}

func TestReloadInvalidKeepsRunningConfig(t *testing.T) {
	next := make(chan func() (*config.Config, error), 1)
	opts := Options{ObserveOptions: ObserveOptions{LoadConfig: func() (*config.Config, error) { return (<-next)() }}}
	gw, _ := startObserved(t, testConfig(dep(0, "old", "mock/old", "", "")), opts)
	body := func(model string) string {
		return `{"model":"` + model + `","messages":[{"role":"user","content":"hi"}]}`
	}

	next <- func() (*config.Config, error) { return nil, errors.New("config: model_list[0].model_name: required") }
	r := rawPost(t, gw, "/config/reload", "", testMasterKey)
	if r.StatusCode != 400 || !strings.Contains(r.Body, "model_list[0].model_name") {
		t.Fatalf("parse error reload: %d %s", r.StatusCode, r.Body)
	}
	next <- func() (*config.Config, error) { return testConfig(dep(0, "new", "openai/x", "not a url", "")), nil }
	if r := rawPost(t, gw, "/config/reload", "", testMasterKey); r.StatusCode != 400 || !strings.Contains(r.Body, "api_base") {
		t.Fatalf("registry error reload: %d %s", r.StatusCode, r.Body)
	}
	if r := rawPost(t, gw, "/v1/chat/completions", body("old"), testMasterKey); r.StatusCode != 200 {
		t.Fatalf("old config lost after rejected reloads: %d", r.StatusCode)
	}
	if r := rawPost(t, gw, "/config/reload", "", "wrong"); r.StatusCode != 401 {
		t.Fatalf("reload without master key: %d", r.StatusCode)
	}
	next <- func() (*config.Config, error) { return testConfig(dep(0, "new", "mock/new", "", "")), nil }
	if r := rawPost(t, gw, "/config/reload", "", testMasterKey); r.StatusCode != 200 || !strings.Contains(r.Body, `"models":1`) {
		t.Fatalf("valid reload: %d %s", r.StatusCode, r.Body)
	}
	if r := rawPost(t, gw, "/v1/chat/completions", body("new"), testMasterKey); r.StatusCode != 200 {
		t.Fatalf("new model after reload: %d", r.StatusCode)
	}
	if r := rawPost(t, gw, "/v1/chat/completions", body("old"), testMasterKey); r.StatusCode != 404 {
		t.Fatalf("old model after reload: %d", r.StatusCode)
	}
	if r := rawRequest(t, gw, "GET", "/v1/models", "", "Authorization: Bearer "+testMasterKey); !strings.Contains(r.Body, `"new"`) || strings.Contains(r.Body, `"old"`) {
		t.Fatalf("/v1/models after reload: %s", r.Body)
	}
	m := scrape(t, gw)
	wantSeries(t, m, `llmedge_config_reloads_total{result="failure"}`, 2)
	wantSeries(t, m, `llmedge_config_reloads_total{result="success"}`, 1)
}

func TestReloadUnder100StreamsLosesNone(t *testing.T) {
	const n = 100
	up := newFakeOpenAI(t)
	gate := make(chan struct{})
	words := []string{"alpha", "beta", "gamma"}
	gated := streamWords(words, 0, gate)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, b []byte) {
		if upstreamModel(b) == "m2" {
			answerJSON("new")(w, r, b)
			return
		}
		gated(w, r, b)
	})
	oldCfg := testConfig(dep(0, "m", "openai/m", up.base(), "k-old"))
	newCfg := testConfig(dep(0, "m2", "openai/m2", up.base(), "k-new"))
	newCfg.General.MasterKey = "sk-new-master"
	opts := Options{ObserveOptions: ObserveOptions{LoadConfig: func() (*config.Config, error) { return newCfg, nil }}}
	gw, _ := startObserved(t, oldCfg, opts)

	type result struct {
		content string
		err     error
	}
	results := make(chan result, n)
	started := make(chan struct{}, n)
	client := sdk(gw, testMasterKey)
	for i := 0; i < n; i++ {
		go func() {
			p := userMsg("go")
			p.Model = "m"
			s := client.Chat.Completions.NewStreaming(context.Background(), p)
			var sb strings.Builder
			first := true
			for s.Next() {
				if first {
					started <- struct{}{}
					first = false
				}
				if len(s.Current().Choices) > 0 {
					sb.WriteString(s.Current().Choices[0].Delta.Content)
				}
			}
			if first {
				started <- struct{}{}
			}
			results <- result{sb.String(), s.Err()}
		}()
	}
	deadline := time.After(15 * time.Second)
	for i := 0; i < n; i++ {
		select {
		case <-started:
		case <-deadline:
			t.Fatalf("only %d of %d streams started", i, n)
		}
	}
	if got := gw.srv.InFlight(); got != n {
		t.Fatalf("in flight %d, want %d", got, n)
	}
	if r := rawPost(t, gw, "/config/reload", "", testMasterKey); r.StatusCode != 200 {
		t.Fatalf("reload: %d %s", r.StatusCode, r.Body)
	}
	// New requests use the new config (new master key, new model)...
	if r := rawPost(t, gw, "/v1/chat/completions", `{"model":"m2","messages":[{"role":"user","content":"hi"}]}`, "sk-new-master"); r.StatusCode != 200 {
		t.Fatalf("new config not in force: %d %s", r.StatusCode, r.Body)
	}
	if r := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, testMasterKey); r.StatusCode != 401 {
		t.Fatalf("old master key still accepted: %d", r.StatusCode)
	}
	// ...while the 100 old streams finish on the old one.
	close(gate)
	for i := 0; i < n; i++ {
		select {
		case r := <-results:
			if r.err != nil {
				t.Fatalf("stream %d failed: %v", i, r.err)
			}
			if r.content != "alpha beta gamma" {
				t.Fatalf("stream %d content %q", i, r.content)
			}
		case <-deadline:
			t.Fatalf("only %d of %d streams finished", i, n)
		}
	}
	// Old streams went out with the old deployment's key.
	for _, rq := range up.requests() {
		if upstreamModel(rq.Body) == "m" && rq.Header.Get("Authorization") != "Bearer k-old" {
			t.Fatalf("old stream used %q", rq.Header.Get("Authorization"))
		}
	}
	waitFor(t, 3*time.Second, "streams closed", func() bool { return gw.srv.InFlight() == 0 })
	m := scrape(t, gw)
	wantSeries(t, m, `llmedge_requests_total{model_name="m",deployment="m-0",status="2xx",stream="true"}`, n)
	wantSeries(t, m, `llmedge_streams_open`, 0)
}

// The limiter's hooks: metricRateLimited(reason) and observeRejected
// with rejectRateLimited after writing the 429.
func TestRateLimitHooks(t *testing.T) {
	gw, logs := startObserved(t, testConfig(dep(0, "m", "mock/m", "", "")), Options{ObserveOptions: ObserveOptions{AccessLog: true}})
	s := gw.srv
	var ctx fasthttp.RequestCtx
	writeError(&ctx, 429, "rate limit exceeded", "rate_limit_error", "", "rate_limit_exceeded")
	s.metricRateLimited("rpm")
	s.observeRejected(&ctx, s.current(), s.current().reg.Lookup([]byte("m")), true, rejectRateLimited)
	if ctx.Response.Header.Peek("X-Request-Id") == nil || ctx.Response.Header.Peek("X-Llmedge-Overhead-Duration-Ms") == nil {
		t.Error("rejected response lacks x-request-id / timing headers")
	}
	m := scrape(t, gw)
	wantSeries(t, m, `llmedge_rate_limited_total{reason="rpm"}`, 1)
	wantSeries(t, m, `llmedge_rejected_requests_total{reason="rate_limited"}`, 1)
	wantSeries(t, m, `llmedge_requests_total{model_name="m",deployment="",status="4xx",stream="true"}`, 1)
	if !strings.Contains(logs.String(), `"rejected":"rate_limited"`) || !strings.Contains(logs.String(), `"status":429`) {
		t.Errorf("no access line for the 429: %s", logs.String())
	}
}

func TestStreamErrorsCounted(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"par\"},\"finish_reason\":null}]}\n\ndata: {\"trunc")
		w.(http.Flusher).Flush()
		if hj, _, err := w.(http.Hijacker).Hijack(); err == nil {
			hj.Close()
		}
	})
	gw, logs := startObserved(t, testConfig(dep(0, "m", "openai/m", up.base(), "k")), Options{ObserveOptions: ObserveOptions{AccessLog: true}})
	rawPost(t, gw, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`, testMasterKey)
	waitFor(t, 3*time.Second, "stream finished", func() bool { return gw.srv.InFlight() == 0 })
	m := scrape(t, gw)
	wantSeries(t, m, `llmedge_stream_errors_total{model_name="m",deployment="m-0",reason="upstream"}`, 1)
	wantSeries(t, m, `llmedge_requests_total{model_name="m",deployment="m-0",status="2xx",stream="true"}`, 1)
	if !strings.Contains(logs.String(), `"error":"`) {
		t.Errorf("access line lacks the stream error: %s", logs.String())
	}
}

func TestAppendMillis(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0.000", 999 * time.Nanosecond: "0.000", 1500 * time.Microsecond: "1.500",
		12*time.Second + 3*time.Microsecond: "12000.003", -time.Second: "0.000", 7 * time.Microsecond: "0.007"} {
		if got := string(appendMillis(nil, d)); got != want {
			t.Errorf("appendMillis(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestMessagesRouteObserved(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(anthropicJSON(`[{"type":"text","text":"Hello!"}]`, "end_turn", 10, 2, 4, 3))
	gw, logs := startObserved(t, testConfig(anthropicDep(0, "claude", up)), Options{ObserveOptions: ObserveOptions{AccessLog: true}})
	r := rawRequest(t, gw, "POST", "/v1/messages", fmt.Sprintf(claudeCodeBody, ""), claudeHeaders()...)
	if r.StatusCode != 200 {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	for _, h := range []string{"X-Request-Id", "X-Llmedge-Response-Duration-Ms", "X-Llmedge-Overhead-Duration-Ms", "X-Llmedge-Model-Id"} {
		if r.Header.Get(h) == "" {
			t.Errorf("/v1/messages answer lacks %s", h)
		}
	}
	if r := rawRequest(t, gw, "POST", "/v1/messages", `{"model":"claude"}`, "x-api-key: wrong"); r.StatusCode != 401 {
		t.Fatalf("wrong key: %d", r.StatusCode)
	}
	m := scrape(t, gw)
	wantSeries(t, m, `llmedge_requests_total{model_name="claude",deployment="claude-0",status="2xx",stream="false"}`, 1)
	wantSeries(t, m, `llmedge_prompt_tokens_total{model_name="claude",key="master"}`, 17)
	wantSeries(t, m, `llmedge_completion_tokens_total{model_name="claude",key="master"}`, 2)
	wantSeries(t, m, `llmedge_rejected_requests_total{reason="auth"}`, 1)
	if !strings.Contains(logs.String(), `"model_name":"claude"`) || strings.Contains(logs.String(), anthropicTestKey) {
		t.Errorf("access log: %s", logs.String())
	}
}

// Retries, cooldowns and fallbacks of the router reach the metrics.
func TestReliabilityMetrics(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		if upstreamModel(body) == "bad" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(500)
			fmt.Fprint(w, `{"error":{"message":"boom","type":"server_error"}}`)
			return
		}
		answerJSON("ok")(w, r, body)
	})
	cfg := testConfig(dep(0, "m", "openai/bad", up.base(), "k"), dep(1, "m", "openai/bad", up.base(), "k"), dep(2, "f", "openai/good", up.base(), "k"))
	setSettings(cfg, "router_settings", map[string]any{"fallbacks": []any{map[string]any{"m": []any{"f"}}}, "allowed_fails": 0, "cooldown_time": 30,
		"num_retries": 1, "retry_backoff_seconds": 0})
	gw, _ := startObserved(t, cfg, Options{})
	if r := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, testMasterKey); r.StatusCode != 200 {
		t.Fatalf("fallback did not answer: %d %s", r.StatusCode, r.Body)
	}
	m := scrape(t, gw)
	a := m[`llmedge_upstream_attempts_total{model_name="m",deployment="m-0"}`] + m[`llmedge_upstream_attempts_total{model_name="m",deployment="m-1"}`]
	if a != 2 {
		t.Errorf("attempts on m = %v, want 2", a)
	}
	wantSeries(t, m, `llmedge_upstream_attempts_total{model_name="f",deployment="f-2"}`, 1)
	retries := m[`llmedge_upstream_retries_total{model_name="m",deployment="m-0"}`] + m[`llmedge_upstream_retries_total{model_name="m",deployment="m-1"}`] +
		m[`llmedge_upstream_retries_total{model_name="f",deployment="f-2"}`]
	if retries != 2 {
		t.Errorf("retries = %v, want 2 (every attempt after the first)", retries)
	}
	cool := m[`llmedge_deployment_cooldowns_total{model_name="m",deployment="m-0"}`] + m[`llmedge_deployment_cooldowns_total{model_name="m",deployment="m-1"}`]
	if cool != 2 {
		t.Errorf("cooldowns = %v, want 2", cool)
	}
	wantSeries(t, m, `llmedge_fallbacks_total{model_name="m",fallback="f"}`, 1)
	wantSeries(t, m, `llmedge_requests_total{model_name="f",deployment="f-2",status="2xx",stream="false"}`, 1)
}

// A keepalive stream (committed before the router ran) is observed too.
func TestKeepaliveStreamObserved(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(streamWords([]string{"a", "b"}, 0, nil))
	cfg := testConfig(dep(0, "m", "openai/m", up.base(), "k"))
	setSettings(cfg, "general_settings", map[string]any{"stream_keepalive_seconds": 5})
	gw, logs := startObserved(t, cfg, Options{ObserveOptions: ObserveOptions{AccessLog: true}})
	r := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`, testMasterKey)
	if r.StatusCode != 200 || !strings.HasSuffix(r.Body, "data: [DONE]\n\n") {
		t.Fatalf("%d %q", r.StatusCode, r.Body)
	}
	if r.Header.Get("X-Request-Id") == "" || r.Header.Get("X-Llmedge-Response-Duration-Ms") == "" {
		t.Errorf("keepalive stream headers: %v", r.Header)
	}
	waitFor(t, 3*time.Second, "stream finished", func() bool { return gw.srv.InFlight() == 0 })
	m := scrape(t, gw)
	wantSeries(t, m, `llmedge_requests_total{model_name="m",deployment="m-0",status="2xx",stream="true"}`, 1)
	wantSeries(t, m, `llmedge_ttfb_seconds_count{model_name="m",deployment="m-0",stream="true"}`, 1)
	wantSeries(t, m, `llmedge_streams_open`, 0)
	if !strings.Contains(logs.String(), `"deployment":"m-0"`) {
		t.Errorf("access log: %s", logs.String())
	}
}
