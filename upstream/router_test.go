package upstream

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/valyala/fasthttp"
)

func mockDep(i int, name string) *config.Deployment {
	return &config.Deployment{Index: i, ModelName: name, ID: name + "-" + string(rune('0'+i)), Model: "mock/x", Provider: "mock", UpstreamModel: "x"}
}

func TestPolicyFromConfig(t *testing.T) {
	cfg := settingsConfig(t, `
router_settings:
  routing_strategy: least-busy
  retry_policy: {RateLimitErrorRetries: 5, BadRequestErrorRetries: 1}
  allowed_fails: 7
  cooldown_time: 1.5
  fallbacks: [{a: [b, c]}]
  context_window_fallbacks: [{a: [big]}]
  timeout: 12s
litellm_settings:
  num_retries: 2
  allowed_fails: 1 # router_settings wins
  default_fallbacks: [d]
  max_fallbacks: 1
`)
	p, errs := newPolicy(cfg)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if p.strategy != leastBusy || p.numRetries != 2 || p.allowedFails != 7 || p.cooldownTime != 1500*time.Millisecond || p.maxFallbacks != 1 || p.timeout != 12*time.Second {
		t.Fatalf("%+v", p)
	}
	if got := p.retriesFor(&Error{Status: 429}); got != 5 {
		t.Fatalf("429 retries %d", got)
	}
	if got := p.retriesFor(&Error{Status: 503, Retryable: true}); got != 2 {
		t.Fatalf("503 retries %d", got)
	}
	if got := p.retriesFor(&Error{Status: 400}); got != 1 {
		t.Fatalf("400 retries %d", got)
	}
	if got := p.retriesFor(&Error{Status: 401}); got != 0 {
		t.Fatalf("401 retries %d", got)
	}
	if got := strings.Join(p.fallbacksFor("a", &Error{Status: 503}), ","); got != "b,c" {
		t.Fatalf("fallbacks %q", got)
	}
	if got := strings.Join(p.fallbacksFor("x", &Error{Status: 503}), ","); got != "d" {
		t.Fatalf("default fallbacks %q", got)
	}
	ctxErr := &Error{Status: 400, Body: []byte(`{"error":{"message":"This model's maximum context length is 8192 tokens","code":"context_length_exceeded"}}`)}
	if got := strings.Join(p.fallbacksFor("a", ctxErr), ","); got != "big" {
		t.Fatalf("context fallbacks %q", got)
	}
	if got := p.fallbacksFor("a", &Error{Status: 400, Message: "bad"}); got != nil {
		t.Fatalf("400 fell back to %v", got)
	}
	if got := p.fallbacksFor("a", &Error{Status: 499}); got != nil {
		t.Fatalf("canceled fell back to %v", got)
	}
}

func TestPolicyErrorsNameTheKey(t *testing.T) {
	// Type errors are the loader's; the strategy name is the router's.
	_, err := config.Parse([]byte(`
router_settings:
  retry_policy: {NopeErrorRetries: 1}
  allowed_fails: -1.0
  fallbacks: a
  connection_pool: {max_connections: 0}
`), config.Options{})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"router_settings.retry_policy.NopeErrorRetries", "router_settings.allowed_fails", "router_settings.fallbacks", "router_settings.connection_pool.max_connections"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
	_, err = NewRegistry(settingsConfig(t, "router_settings: {routing_strategy: fastest-please}\n"), Options{})
	if err == nil || !strings.Contains(err.Error(), "router_settings.routing_strategy") {
		t.Errorf("error does not name router_settings.routing_strategy: %v", err)
	}
}

func TestBackoffGrowsWithJitterAndCap(t *testing.T) {
	p := policy{backoff: 100 * time.Millisecond, backoffMax: 400 * time.Millisecond}
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 9: 400 * time.Millisecond} {
		for i := 0; i < 50; i++ {
			if d := p.backoffFor(n); d < want/2 || d > want {
				t.Fatalf("retry %d: %s not in [%s, %s]", n, d, want/2, want)
			}
		}
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"2": 2 * time.Second, "0.25": 250 * time.Millisecond, " 1 ": time.Second, "": 0, "-3": 0, "soon": 0, "NaN": 0,
		"Thu, 01 Jan 2026 00:00:05 GMT": 5 * time.Second, "Wed, 31 Dec 2025 23:00:00 GMT": 0,
	} {
		if got := retryAfterDuration([]byte(in), now); got != want {
			t.Errorf("%q: %s want %s", in, got, want)
		}
	}
	if got := string(clientRetryAfter([]byte("0.3"))); got != "1" {
		t.Errorf("client form %q", got)
	}
}

func TestSelectionStrategies(t *testing.T) {
	cfg := &config.Config{Deployments: []*config.Deployment{mockDep(0, "m"), mockDep(1, "m"), mockDep(2, "m")}}
	reg, err := NewRegistry(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := reg.Group("m")
	ds := g.Deployments
	now := time.Now().UnixNano()

	reg.policy.strategy = leastBusy
	ds[0].health.inflight.Store(3)
	ds[1].health.inflight.Store(1)
	ds[2].health.inflight.Store(2)
	for i := 0; i < 20; i++ {
		if d := reg.pickBy(ds, now); d != ds[1] {
			t.Fatalf("least-busy picked %s", d.ID)
		}
	}

	reg.policy.strategy = latencyBased
	ds[0].health.latency.Store(int64(50 * time.Millisecond))
	ds[1].health.latency.Store(int64(10 * time.Millisecond))
	ds[2].health.latency.Store(0) // never measured: explored first
	if d := reg.pickBy(ds, now); d != ds[2] {
		t.Fatalf("latency picked %s, want the unmeasured one", d.ID)
	}
	ds[2].health.observe(30 * time.Millisecond)
	for i := 0; i < 20; i++ {
		if d := reg.pickBy(ds, now); d != ds[1] {
			t.Fatalf("latency picked %s", d.ID)
		}
	}

	reg.policy.strategy = usageBased
	ds[0].Config.RPM, ds[1].Config.RPM, ds[2].Config.RPM = 10, 10, 100
	for i := 0; i < 5; i++ {
		ds[0].health.use(now, 1)
	}
	ds[1].health.use(now, 1)
	for i := 0; i < 50; i++ {
		ds[2].health.use(now, 1)
	}
	if d := reg.pickBy(ds, now); d != ds[1] {
		t.Fatalf("usage picked %s (headroom %v %v %v)", d.ID, ds[0].headroom(now), ds[1].headroom(now), ds[2].headroom(now))
	}

	// simple-shuffle by weight: a zero weight is never picked.
	reg.policy.strategy = simpleShuffle
	ds[0].Config.Weight, ds[1].Config.Weight, ds[2].Config.Weight = 0, 1, 3
	counts := map[string]int{}
	for i := 0; i < 4000; i++ {
		counts[reg.pickBy(ds, now).ID]++
	}
	if counts[ds[0].ID] != 0 || counts[ds[2].ID] < 2600 || counts[ds[2].ID] > 3400 {
		t.Fatalf("weighted counts %v", counts)
	}
}

// choose prefers untried deployments, honours cooldown, rpm limits and
// per-deployment max_retries.
func TestChoose(t *testing.T) {
	zero := 0
	d0, d1 := mockDep(0, "m"), mockDep(1, "m")
	d1.MaxRetries = &zero
	reg, err := NewRegistry(&config.Config{Deployments: []*config.Deployment{d0, d1}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg.policy.backoff, reg.policy.backoffMax = 10*time.Millisecond, 10*time.Millisecond
	g := reg.Group("m")
	a, b := g.Deployments[0], g.Deployments[1]
	now := time.Now().UnixNano()
	var cs callState
	cs.note(a)
	if d, wait, _ := reg.choose(g, RouteChat, &cs, now); d != b || wait != 0 {
		t.Fatalf("after a: %v %s", d, wait)
	}
	cs.note(b)
	// b has max_retries 0: only a is left, after a backoff.
	if d, wait, _ := reg.choose(g, RouteChat, &cs, now); d != a || wait < 5*time.Millisecond {
		t.Fatalf("retry: %v %s", d, wait)
	}
	// Retry-After on a is the least wait.
	a.health.retryAfter(now, 2*time.Second)
	if _, wait, _ := reg.choose(g, RouteChat, &cs, now); wait < 2*time.Second {
		t.Fatalf("retry-after not honoured: %s", wait)
	}
	// Both cooling: the one that recovers soonest, once per call; then
	// 429 with the soonest recovery.
	a.health.coolUntil.Store(now + int64(3*time.Second))
	b.health.coolUntil.Store(now + int64(1200*time.Millisecond))
	var cooling callState
	if d, _, e := reg.choose(g, RouteChat, &cooling, now); d != b || e != nil {
		t.Fatalf("cooling: %v %+v", d, e)
	}
	cooling.note(b)
	if d, wait, e := reg.choose(g, RouteChat, &cooling, now); d != a || e != nil || wait < 2*time.Second {
		t.Fatalf("cooling, b tried: %v %s %+v", d, wait, e)
	}
	cooling.note(a)
	d, _, e := reg.choose(g, RouteChat, &cooling, now)
	if d != nil || e == nil || e.Status != 429 || string(e.RetryAfter) != "2" {
		t.Fatalf("cooling, both tried: %v %+v", d, e)
	}
	a.health.coolUntil.Store(0)
	b.health.coolUntil.Store(0)
	a.health.notBefore.Store(0)
	// rpm limits.
	a.Config.RPM, b.Config.RPM = 1, 1
	a.health.use(now, 1)
	if d, _, _ := reg.choose(g, RouteChat, &callState{}, now); d != b {
		t.Fatalf("rpm: %v", d)
	}
	b.health.use(now, 1)
	if d, _, e := reg.choose(g, RouteChat, &callState{}, now); d != nil || e == nil || e.Status != 429 {
		t.Fatalf("all at limit: %v %v", d, e)
	}
}

// The router adds no allocation to a call (mock deployment, non-stream).
func BenchmarkRegistryChatMock(b *testing.B) {
	d := mockDep(0, "m")
	d.MockResponse, d.HasMockResponse = "hi", true
	reg, err := NewRegistry(&config.Config{Deployments: []*config.Deployment{d, mockDep(1, "m")}}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	g := reg.Group("m")
	body := []byte(`{"model":"m","messages":[{"role":"user","content":"x"}]}`)
	var c Cancel
	req := &ChatRequest{Body: body, ModelStart: 9, ModelEnd: 12, Model: []byte("m"), Cancel: &c}
	b.ReportAllocs()
	for b.Loop() {
		out := AcquireResponse()
		if err := reg.Chat(g, req, out); err != nil {
			b.Fatal(err)
		}
		ReleaseResponse(out)
	}
}

func BenchmarkChoose(b *testing.B) {
	cfg := &config.Config{Deployments: []*config.Deployment{mockDep(0, "m"), mockDep(1, "m"), mockDep(2, "m"), mockDep(3, "m")}}
	for _, s := range []string{"simple-shuffle", "least-busy", "latency-based-routing", "usage-based-routing"} {
		b.Run(s, func(b *testing.B) {
			cfg.Router.RoutingStrategy = s
			reg, err := NewRegistry(cfg, Options{})
			if err != nil {
				b.Fatal(err)
			}
			g := reg.Group("m")
			b.ReportAllocs()
			for b.Loop() {
				var cs callState
				now := time.Now().UnixNano()
				if d, _, _ := reg.choose(g, RouteChat, &cs, now); d == nil {
					b.Fatal("none")
				}
			}
		})
	}
}

func TestMaxFallbacksAndAttemptsAcrossGroups(t *testing.T) {
	broken := func(i int, name string) *config.Deployment {
		d := mockDep(i, name)
		d.MissingEnv = []string{"NOPE_KEY"}
		return d
	}
	for _, tc := range []struct {
		max  int64
		ok   bool
		want string
	}{{1, false, "a-0"}, {2, true, "c-3"}} {
		cfg := settingsConfig(t, fmt.Sprintf("router_settings: {fallbacks: [{a: [b, c]}], max_fallbacks: %d}\n", tc.max))
		cfg.Deployments = []*config.Deployment{broken(0, "a"), broken(1, "b"), mockDep(3, "c")}
		cfg.Deployments[2].Index = 2
		reg, err := NewRegistry(cfg, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var c Cancel
		body := []byte(`{"model":"a","messages":[]}`)
		req := &ChatRequest{Body: body, ModelStart: 9, ModelEnd: 12, Model: []byte("a"), Cancel: &c}
		out := AcquireResponse()
		err = reg.Chat(reg.Group("a"), req, out)
		if (err == nil) != tc.ok {
			t.Fatalf("max_fallbacks %d: err %v", tc.max, err)
		}
		if tc.ok && (out.Deployment.ID != tc.want || out.Attempts != 1 || string(req.Model) != "a") {
			t.Fatalf("answered by %s after %d attempts, model now %q", out.Deployment.ID, out.Attempts, req.Model)
		}
		if !tc.ok && (err.(*Error).Status != 503 || !strings.Contains(err.Error(), `"a"`)) {
			t.Fatalf("error %v", err)
		}
		ReleaseResponse(out)
	}
}

func TestCookieStorePathThroughRegistry(t *testing.T) {
	path := t.TempDir() + "/jar.json"
	cfg := &config.Config{Deployments: []*config.Deployment{mockDep(0, "m")}, General: config.GeneralSettings{CookieStorePath: path}}
	reg, err := NewRegistry(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cookieReq, cookieResp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	cookieReq.SetRequestURI("https://api.example.com/v1/chat/completions")
	cookieResp.Header.Add("Set-Cookie", "cf_clearance=kept; Path=/; Max-Age=600")
	reg.net.Cookies.Store(cookieReq, cookieResp)
	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}
	reg2, err := NewRegistry(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cookieReq.Header.DelAllCookies()
	reg2.net.Cookies.Apply(cookieReq, false)
	if got := string(cookieReq.Header.Cookie("cf_clearance")); got != "kept" {
		t.Fatalf("after restart %q", got)
	}
}

// In a group mixing providers, a route only some deployments serve goes
// to those only: the others are never attempted for it (and so never
// cooled down by it).
func TestChooseSkipsDeploymentsNotServingTheRoute(t *testing.T) {
	chat := &config.Deployment{Index: 0, ModelName: "m", ID: "m-0", Model: "deepseek/x", Provider: "deepseek", UpstreamModel: "x", APIKey: "k", APIBase: "http://127.0.0.1:9/v1"}
	emb := mockDep(1, "m")
	reg, err := NewRegistry(&config.Config{Deployments: []*config.Deployment{chat, emb}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := reg.Group("m")
	now := time.Now().UnixNano()
	for i := 0; i < 20; i++ {
		var cs callState
		if d, _, _ := reg.choose(g, RouteEmbeddings, &cs, now); d != g.Deployments[1] {
			t.Fatalf("embeddings went to %v", d)
		}
	}
	var cs callState
	cs.note(g.Deployments[1])
	cs.note(g.Deployments[1])
	reg.policy.backoff = 0
	if d, _, _ := reg.choose(g, RouteEmbeddings, &cs, now); d != g.Deployments[1] {
		t.Fatalf("retry went to %v", d)
	}
}
