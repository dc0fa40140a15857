package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/openai/openai-go/v3"
	"github.com/valyala/fasthttp"
)

// fixedClock is a settable clock for limiter tests.
type fixedClock struct{ t atomic.Int64 }

func (c *fixedClock) now() time.Time      { return time.Unix(0, c.t.Load()) }
func (c *fixedClock) set(t time.Time)     { c.t.Store(t.UnixNano()) }
func (c *fixedClock) add(d time.Duration) { c.t.Add(int64(d)) }
func newClock(t time.Time) *fixedClock    { c := &fixedClock{}; c.set(t); return c }
func minuteStart() time.Time              { return time.Unix(1_800_000_000-1_800_000_000%60, 0) }
func admitOne(l *limiter, scs ...*scope) (*admission, verdict) {
	a := &admission{}
	for i, s := range scs {
		a.add(s, []string{"global", "key", "user"}[i])
	}
	return a, l.admit(a)
}

func TestLimiterRPMExactPerWindow(t *testing.T) {
	clk := newClock(minuteStart().Add(10 * time.Second))
	l := newLimiter(0, limits{})
	l.now = clk.now
	k := newScope("k", limits{rpm: 3})
	for i := 0; i < 3; i++ {
		a, v := admitOne(l, nil, k)
		if !v.ok {
			t.Fatalf("request %d refused", i)
		}
		if v.limReq != 3 || v.remReq != int64(2-i) || v.reset != 50 {
			t.Fatalf("headers after %d: %+v", i, v)
		}
		l.release(a, 0)
	}
	_, v := admitOne(l, nil, k)
	if v.ok || v.kind != limitRPM || v.scope != "key" || v.retryAfter != 50 {
		t.Fatalf("4th request: %+v", v)
	}
	clk.add(50 * time.Second) // next minute
	if _, v := admitOne(l, nil, k); !v.ok {
		t.Fatalf("new window refused: %+v", v)
	}
}

func TestLimiterTPMCountsReleasedTokens(t *testing.T) {
	clk := newClock(minuteStart())
	l := newLimiter(0, limits{})
	l.now = clk.now
	k := newScope("k", limits{tpm: 100})
	a, v := admitOne(l, nil, k)
	if !v.ok || v.remTok != 100 {
		t.Fatalf("%+v", v)
	}
	l.release(a, 99)
	a, v = admitOne(l, nil, k)
	if !v.ok || v.remTok != 1 {
		t.Fatalf("%+v", v)
	}
	l.release(a, 50)
	if _, v := admitOne(l, nil, k); v.ok || v.kind != limitTPM {
		t.Fatalf("over tpm admitted: %+v", v)
	}
}

func TestLimiterParallelAndAllOrNothing(t *testing.T) {
	l := newLimiter(2, limits{})
	k := newScope("k", limits{rpm: 100})
	a1, _ := admitOne(l, l.global, k)
	a2, _ := admitOne(l, l.global, k)
	_, v := admitOne(l, l.global, k)
	if v.ok || v.kind != limitParallel || v.scope != "global" || v.retryAfter != 1 {
		t.Fatalf("third parallel: %+v", v)
	}
	// The refused request was not counted against the key.
	if k.reqs != 2 {
		t.Fatalf("key counted %d requests, want 2", k.reqs)
	}
	l.release(a1, 0)
	l.release(a2, 0)
	if _, v := admitOne(l, l.global, k); !v.ok {
		t.Fatalf("after release: %+v", v)
	}
}

func TestLimiterConcurrentNeverOverAdmits(t *testing.T) {
	l := newLimiter(0, limits{})
	k := newScope("k", limits{rpm: 500})
	var ok atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				a, v := admitOne(l, nil, k)
				if v.ok {
					ok.Add(1)
					l.release(a, 0)
				}
			}
		}()
	}
	wg.Wait()
	if ok.Load() > 500 {
		t.Fatalf("admitted %d > 500", ok.Load())
	}
}

func TestLimiterUsersBounded(t *testing.T) {
	clk := newClock(minuteStart())
	l := newLimiter(0, limits{rpm: 1})
	l.now = clk.now
	l.maxUsers = 3
	alice := l.user([]byte("alice"))
	if alice == nil || l.user([]byte("alice")) != alice {
		t.Fatal("same user, different scopes")
	}
	admitOne(l, nil, nil, alice) // alice holds a slot: never evicted while in flight
	l.user([]byte("bob"))
	l.user([]byte("carol"))
	if l.user([]byte("dave")) != l.overflow {
		t.Fatal("map grew past maxUsers")
	}
	clk.add(3 * time.Minute) // bob and carol idle: evicted for newcomers
	if d := l.user([]byte("dave")); d == l.overflow || l.user([]byte("alice")) != alice || len(l.users) > 3 {
		t.Fatalf("eviction: %d users", len(l.users))
	}
	if l.user(nil) != nil {
		t.Fatal("empty user id got a scope")
	}
	if newLimiter(0, limits{}).user([]byte("x")) != nil {
		t.Fatal("user scope without user limits")
	}
}

// BenchmarkLimiterAdmitRelease: the in-memory check path, three scopes.
func BenchmarkLimiterAdmitRelease(b *testing.B) {
	l := newLimiter(1<<40, limits{rpm: 1 << 40, tpm: 1 << 40, parallel: 1 << 40})
	k := newScope("k", limits{rpm: 1 << 40, tpm: 1 << 40, parallel: 1 << 40})
	uid := []byte("user-123")
	l.user(uid)
	b.ReportAllocs()
	var a admission
	for b.Loop() {
		a.reset()
		a.add(l.global, "global")
		a.add(k, "key")
		a.add(l.user(uid), "user")
		if v := l.admit(&a); !v.ok {
			b.Fatal(v)
		}
		l.release(&a, 10)
	}
}

func BenchmarkAuthIdentify(b *testing.B) {
	keys := make([]keyConf, 20)
	for i := range keys {
		keys[i] = keyConf{key: fmt.Sprintf("sk-team-%02d-xxxxxxxxxxxxxxxx", i), name: fmt.Sprint(i), models: []string{"gpt-4o"}}
	}
	a := newAuthenticatorFrom(testMasterKey, keys)
	var h fasthttp.RequestHeader
	h.Set("Authorization", "Bearer sk-team-19-xxxxxxxxxxxxxxxx")
	b.ReportAllocs()
	for b.Loop() {
		k := a.identify(&h)
		if k == nil || !k.allows([]byte("gpt-4o")) {
			b.Fatal("not identified")
		}
	}
}

func TestAuthIdentifiesKeysAndModels(t *testing.T) {
	a := newAuthenticatorFrom("master-key-1", []keyConf{
		{key: "team-a-key-1", name: "team-a", models: []string{"gpt-4o", "openai/*"}},
		{key: "team-b-key-1", name: "team-b", models: []string{}},
	})
	id := func(v string) *apiKey {
		var h fasthttp.RequestHeader
		h.Set("Authorization", "Bearer "+v)
		return a.identify(&h)
	}
	if k := id("master-key-1"); k == nil || k.name != "master" || !k.allows([]byte("anything")) {
		t.Fatal("master")
	}
	k := id("team-a-key-1")
	if k == nil || k.name != "team-a" || !k.allows([]byte("gpt-4o")) || !k.allows([]byte("openai/gpt-5")) || k.allows([]byte("claude")) {
		t.Fatal("team-a")
	}
	if k := id("team-b-key-1"); k == nil || k.allows([]byte("gpt-4o")) {
		t.Fatal("team-b has an empty model list: nothing allowed")
	}
	if id("team-a-key-2") != nil || id("") != nil || id("team-a-key-1 ") == nil {
		t.Fatal("unknown keys must fail (surrounding space is trimmed)")
	}
	if newAuthenticatorFrom("", nil).identify(&fasthttp.RequestHeader{}) == nil {
		t.Fatal("open gateway")
	}
}

// limitsConfig is testConfig with general_settings.
func limitsConfig(general map[string]any, deps ...*config.Deployment) *config.Config {
	cfg := testConfig(deps...)
	setSettings(cfg, "general_settings", general)
	return cfg
}

func TestKeyModelsAndLimitsOverHTTP(t *testing.T) {
	up := newFakeOpenAI(t)
	cfg := limitsConfig(map[string]any{
		"api_keys": []any{
			map[string]any{"key": "sk-team-a-0123456789", "name": "team-a", "models": []any{"gpt-4o"}, "rpm_limit": 2, "tpm_limit": "100000"},
		},
	}, dep(0, "gpt-4o", "openai/gpt-4o", up.base(), "sk-up"), dep(1, "other", "openai/other", up.base(), "sk-up"))
	gw := startGateway(t, cfg)
	client := sdk(gw, "sk-team-a-0123456789")

	p := userMsg("hi")
	p.Model = "other"
	_, err := client.Chat.Completions.New(context.Background(), p)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 403 || apiErr.Param != "model" || !strings.Contains(apiErr.Message, "'other'") {
		t.Fatalf("want 403 naming the model, got %v", err)
	}
	if strings.Contains(apiErr.RawJSON(), "sk-team-a") {
		t.Fatal("key value in an error body")
	}
	// /v1/models lists only the key's models.
	page, err := client.Models.List(context.Background())
	if err != nil || len(page.Data) != 1 || page.Data[0].ID != "gpt-4o" {
		t.Fatalf("models for team-a: %v %+v", err, page)
	}
	master := sdk(gw, testMasterKey)
	if page, err := master.Models.List(context.Background()); err != nil || len(page.Data) != 2 {
		t.Fatalf("models for master: %v", err)
	}

	p.Model = "gpt-4o"
	for i := 0; i < 2; i++ {
		resp := rawPost(t, gw, "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}`, "sk-team-a-0123456789")
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, resp.Body)
		}
		if got := resp.Header.Get("X-Ratelimit-Limit-Requests"); got != "2" {
			t.Fatalf("limit header %q (upstream's must be overridden)", got)
		}
		if got := resp.Header.Get("X-Ratelimit-Remaining-Requests"); got != fmt.Sprint(1-i) {
			t.Fatalf("remaining %q after %d", got, i)
		}
		if resp.Header.Get("X-Ratelimit-Reset-Requests") == "" || resp.Header.Get("X-Ratelimit-Limit-Tokens") != "100000" || resp.Header.Get("X-Ratelimit-Remaining-Tokens") == "" || resp.Header.Get("X-Ratelimit-Reset-Tokens") == "" {
			t.Fatalf("missing headers: %v", resp.Header)
		}
	}
	// The fake upstream reports 11 tokens per answer.
	resp := rawPost(t, gw, "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}`, "sk-team-a-0123456789")
	if resp.StatusCode != 429 {
		t.Fatalf("third request: %d %s", resp.StatusCode, resp.Body)
	}
	var e struct {
		Error struct{ Type, Code, Message string }
	}
	if json.Unmarshal([]byte(resp.Body), &e) != nil || e.Error.Type != "rate_limit_error" || !strings.Contains(e.Error.Message, "requests per minute") {
		t.Fatalf("429 body: %s", resp.Body)
	}
	if resp.Header.Get("Retry-After") == "" || resp.Header.Get("X-Ratelimit-Remaining-Requests") != "0" {
		t.Fatalf("429 headers: %v", resp.Header)
	}
	if got := resp.Header.Get("X-Ratelimit-Remaining-Tokens"); got != "99978" {
		t.Fatalf("tokens remaining %q, want 100000-2*11", got)
	}
	// The master key is not limited by team-a's limits.
	if r := rawPost(t, gw, "/v1/chat/completions", `{"model":"other","messages":[{"role":"user","content":"x"}]}`, testMasterKey); r.StatusCode != 200 {
		t.Fatalf("master: %d", r.StatusCode)
	}
}

// streamWithUsage answers a stream and, when the request asks for it,
// the usage-only chunk OpenAI documents for stream_options.include_usage.
func streamWithUsage(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		StreamOptions *struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	_ = json.Unmarshal(body, &req)
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	fmt.Fprint(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":null}],\"usage\":null}\n\n")
	fmt.Fprint(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n")
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		fmt.Fprint(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":12,\"total_tokens\":42,\"prompt_tokens_details\":{\"cached_tokens\":0}}}\n\n")
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	fl.Flush()
}

func TestStreamTokensCountedAndUsageChunkHidden(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(streamWithUsage)
	cfg := limitsConfig(map[string]any{
		"api_keys": []any{map[string]any{"key": "sk-team-t-0123456789", "tpm_limit": 100}},
	}, dep(0, "m", "openai/m", up.base(), "sk-up"))
	gw := startGateway(t, cfg)
	bodies := []string{
		`{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true}`,
		`{"stream_options":{"include_usage":false},"model":"m","messages":[{"role":"user","content":"x"}],"stream":true}`,
		`{"model":"m","stream_options":{ },"messages":[{"role":"user","content":"x"}],"stream":true}`,
		`{"model":"m","stream_options":null,"messages":[{"role":"user","content":"x"}],"stream":true}`,
		`{"model":"m","stream_options":{"x":1},"messages":[{"role":"user","content":"x"}],"stream":true}`,
	}
	for i, body := range bodies {
		// Reset the key's window between bodies so each is admitted.
		key := gw.srv.current().auth.keys[1]
		key.sc.mu.Lock()
		key.sc.toks = 0
		key.sc.mu.Unlock()
		resp := rawPost(t, gw, "/v1/chat/completions", body, "sk-team-t-0123456789")
		if resp.StatusCode != 200 {
			t.Fatalf("%d: %d %s", i, resp.StatusCode, resp.Body)
		}
		if strings.Contains(resp.Body, `"usage":{`) || !strings.Contains(resp.Body, "[DONE]") {
			t.Fatalf("%d: usage chunk reached a client that did not ask:\n%s", i, resp.Body)
		}
		sent := up.requests()[i].Body
		var m map[string]any
		if err := json.Unmarshal(sent, &m); err != nil {
			t.Fatalf("%d: upstream body invalid: %v\n%s", i, err, sent)
		}
		so, _ := m["stream_options"].(map[string]any)
		if so["include_usage"] != true {
			t.Fatalf("%d: upstream not asked for usage: %s", i, sent)
		}
		if i == 4 && so["x"] != 1.0 {
			t.Fatalf("other stream_options lost: %s", sent)
		}
		waitFor(t, 2*time.Second, "tokens counted", func() bool {
			key.sc.mu.Lock()
			defer key.sc.mu.Unlock()
			return key.sc.toks == 42
		})
	}
	// A client that asks for usage gets the chunk, and the body is
	// forwarded unchanged (beyond the model).
	body := `{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}}`
	resp := rawPost(t, gw, "/v1/chat/completions", body, "sk-team-t-0123456789")
	if !strings.Contains(resp.Body, `"total_tokens":42`) {
		t.Fatalf("client asked for usage and did not get it:\n%s", resp.Body)
	}
	reqs := up.requests()
	if got := string(reqs[len(reqs)-1].Body); got != body {
		t.Fatalf("body changed: %s", got)
	}
	// 84 tokens now counted against 100: one more admitted, then 429.
	rawPost(t, gw, "/v1/chat/completions", body, "sk-team-t-0123456789")
	waitFor(t, 2*time.Second, "tpm reached", func() bool {
		return rawPost(t, gw, "/v1/chat/completions", body, "sk-team-t-0123456789").StatusCode == 429
	})
}

func TestParallelLimitOverHTTP(t *testing.T) {
	up := newFakeOpenAI(t)
	release := make(chan struct{})
	var inUpstream atomic.Int64
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		inUpstream.Add(1)
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		answerJSON("ok")(w, r, body)
	})
	cfg := limitsConfig(map[string]any{"global_max_parallel_requests": 2}, dep(0, "m", "openai/m", up.base(), "k"))
	gw := startGateway(t, cfg)
	results := make(chan int, 2)
	for i := 0; i < 2; i++ {
		go func() {
			results <- rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, testMasterKey).StatusCode
		}()
	}
	waitFor(t, 5*time.Second, "two requests upstream", func() bool { return inUpstream.Load() == 2 })
	resp := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if resp.StatusCode != 429 || !strings.Contains(resp.Body, "parallel") || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("third: %d %s", resp.StatusCode, resp.Body)
	}
	close(release)
	for i := 0; i < 2; i++ {
		if s := <-results; s != 200 {
			t.Fatalf("held request: %d", s)
		}
	}
	if r := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, testMasterKey); r.StatusCode != 200 {
		t.Fatalf("after release: %d", r.StatusCode)
	}
}

func TestUserLimit(t *testing.T) {
	up := newFakeOpenAI(t)
	cfg := limitsConfig(map[string]any{"user_rpm_limit": 1}, dep(0, "m", "openai/m", up.base(), "k"))
	gw := startGateway(t, cfg)
	// Until user id resolution lands (memory.go), set it as the
	// resolver would, through the call struct.
	s := gw.srv
	sc := s.current().edge.lim.user([]byte("alice"))
	sc.mu.Lock()
	sc.minute, sc.reqs = time.Now().Unix()/60, 1
	sc.mu.Unlock()
	c := &chatCall{userID: []byte("alice")}
	c.fields.model = []byte("m")
	var ctx fasthttp.RequestCtx
	if s.admitCall(&ctx, s.current(), c, s.current().auth.keys[0], nil, false) {
		t.Fatal("alice over her rpm was admitted")
	}
	if ctx.Response.StatusCode() != 429 || !strings.Contains(string(ctx.Response.Body()), "user limit") {
		t.Fatalf("%d %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	c = &chatCall{userID: []byte("bob")}
	c.fields.model = []byte("m")
	if !s.admitCall(&ctx, s.current(), c, s.current().auth.keys[0], nil, false) {
		t.Fatal("bob refused")
	}
}

func TestConfigErrors(t *testing.T) {
	// Types are the loader's to check...
	_, err := config.Parse([]byte(`
general_settings:
  api_keys: [{key: zq9x, rpm_limit: -1, bogus: 1}, x]
  global_max_parallel_requests: many
  cors_allow_origins: 7
`), config.Options{})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"api_keys[0].rpm_limit", "api_keys[0].bogus", "api_keys[1]", "global_max_parallel_requests", "cors_allow_origins"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
	// ... what the values mean is the server's.
	err = CheckConfig(limitsConfig(map[string]any{"api_keys": []any{map[string]any{"key": "zq9x"}}}))
	if err == nil || !strings.Contains(err.Error(), "api_keys[0].key") {
		t.Errorf("error does not name api_keys[0].key: %v", err)
	}
	if err != nil && strings.Contains(err.Error(), "zq9x") {
		t.Error("key value in a config error")
	}
}

func discardSlog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestDigestEqual(t *testing.T) {
	var a, b keyDigest
	if digestEqual(&a, &b) != 1 {
		t.Fatal("equal digests")
	}
	for i := range b {
		for _, bit := range []byte{1, 0x80} {
			b = a
			b[i] ^= bit
			if digestEqual(&a, &b) != 0 {
				t.Fatalf("differ at byte %d bit %x", i, bit)
			}
		}
	}
}
