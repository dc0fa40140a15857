package server

import (
	"context"
	"fmt"
	"github.com/llmedge/llmedge/server/observe"
	"github.com/openai/openai-go/v3"
	"github.com/valyala/fasthttp"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A stream request that the upstream refused before its first event is
// still a stream request: it was counted under stream="false" because
// the label followed the answer's shape, not the request.
func TestFailedStreamRequestCountedAsStream(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}`))
	})
	gw, _ := startObserved(t, testConfig(dep(0, "m", "openai/m", up.base(), "k")), Options{})
	r := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`, testMasterKey)
	if r.StatusCode != 400 {
		t.Fatalf("status %d: %s", r.StatusCode, r.Body)
	}
	waitFor(t, 3*time.Second, "request finished", func() bool { return gw.srv.InFlight() == 0 })
	m := scrape(t, gw)
	dl := `model_name="m",deployment="m-0"`
	wantSeries(t, m, `llmedge_requests_total{`+dl+`,status="4xx",stream="true"}`, 1)
	if _, ok := m[`llmedge_requests_total{`+dl+`,status="4xx",stream="false"}`]; ok {
		t.Error(`the failed stream request was counted under stream="false"`)
	}
	wantSeries(t, m, `llmedge_streams_open`, 0)
}

// process_open_fds and process_max_fds are what the Prometheus client's
// process collector exposes and what fd-exhaustion alerts query.
func TestMetricsExposeProcessFDs(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/self/fd is Linux's")
	}
	gw, _ := startObserved(t, testConfig(dep(0, "m", "mock/m", "", "")), Options{})
	m := scrape(t, gw)
	if m["process_open_fds"] < 3 {
		t.Errorf("process_open_fds = %v (present: %v)", m["process_open_fds"], hasSeries(m, "process_open_fds"))
	}
	if m["process_max_fds"] < m["process_open_fds"] {
		t.Errorf("process_max_fds = %v", m["process_max_fds"])
	}
}

func hasSeries(m map[string]float64, s string) bool { _, ok := m[s]; return ok }

// Every llmedge metric family says what it measures: an empty # HELP
// line tells the reader of a dashboard nothing.
func TestEveryLlmedgeMetricHasHelp(t *testing.T) {
	gw, _ := startObserved(t, testConfig(dep(0, "m", "mock/m", "", "")), Options{})
	// Traffic that creates the lazily made series: a success, a stream,
	// a refusal, a reload is not needed (its counters exist from start).
	rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, testMasterKey)
	rawPost(t, gw, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`, testMasterKey)
	rawPost(t, gw, "/v1/chat/completions", `{"model":"m"}`, "sk-wrong")
	waitFor(t, 3*time.Second, "requests finished", func() bool { return gw.srv.InFlight() == 0 })
	body := rawRequest(t, gw, "GET", "/metrics", "").Body
	types := map[string]bool{}
	help := map[string]string{}
	for _, line := range strings.Split(body, "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, _, _ = strings.Cut(name, " ")
			types[name] = true
		}
		if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
			name, text, _ := strings.Cut(rest, " ")
			help[name] = strings.TrimSpace(text)
		}
	}
	n := 0
	for name := range types {
		if !strings.HasPrefix(name, "llmedge_") {
			continue
		}
		n++
		if help[name] == "" {
			t.Errorf("%s has no help text", name)
		}
	}
	if n < 8 {
		t.Fatalf("only %d llmedge families exposed:\n%s", n, body)
	}
}

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

// The limiter's hooks: RateLimited(reason) and observeRejected with
// RejectRateLimited after writing the 429.
func TestRateLimitHooks(t *testing.T) {
	gw, logs := startObserved(t, testConfig(dep(0, "m", "mock/m", "", "")), Options{ObserveOptions: ObserveOptions{AccessLog: true}})
	s := gw.srv
	var ctx fasthttp.RequestCtx
	writeError(&ctx, 429, "rate limit exceeded", "rate_limit_error", "", "rate_limit_exceeded")
	s.obs.RateLimited("rpm")
	s.observeRejected(&ctx, s.current(), s.current().reg.Lookup([]byte("m")), true, observe.RejectRateLimited)
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
