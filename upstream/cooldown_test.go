package upstream

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
)

// By failure rate (the default): more than half of at least 5 calls in
// the current minute; a few failures among many calls never cool.
func TestCooldownByFailureRate(t *testing.T) {
	p := &policy{cooldownTime: time.Second, allowedFails: DefaultAllowedFails}
	for i := range p.allowedFailsPolicy {
		p.allowedFailsPolicy[i] = -1
	}
	now := time.Now().UnixNano()
	calls := func(h *health, n int) {
		for range n {
			h.use(now, 1)
		}
	}
	var noisy health
	calls(&noisy, 100)
	for i := range 50 {
		if noisy.fail(now, classInternal, false, p) {
			t.Fatalf("cooled after %d failures of 100 calls", i+1)
		}
	}
	if !noisy.fail(now, classInternal, false, p) || !noisy.cooling(now) || noisy.cooling(now+int64(time.Second)) {
		t.Fatal("51 failures of 100 calls did not cool down for 1s")
	}
	var young health
	calls(&young, 4)
	for range 4 {
		if young.fail(now, classTimeout, false, p) {
			t.Fatal("cooled with fewer than 5 calls")
		}
	}
	calls(&young, 1)
	if !young.fail(now, classTimeout, false, p) {
		t.Fatal("5 failures of 5 calls did not cool")
	}
	// The rate is over the calls that ended: of 9 started, 4 still in
	// flight, 3 failures of the 5 that ended cool (counted over all 9
	// they were 33%, and the deployment stayed in).
	var busy health
	calls(&busy, 9)
	busy.inflight.Store(4)
	for range 2 {
		if busy.fail(now, classInternal, false, p) {
			t.Fatal("2 failures of 5 ended calls cooled")
		}
	}
	if !busy.fail(now, classInternal, false, p) {
		t.Fatal("3 failures of 5 ended calls (4 more in flight) did not cool")
	}
	// A broken key cools at once; failures of an earlier minute do not count.
	var keyed health
	calls(&keyed, 1)
	if !keyed.fail(now, classAuth, true, p) {
		t.Fatal("401 did not cool at once")
	}
	var old health
	calls(&old, 10)
	for range 10 {
		old.fail(now, classInternal, false, p)
	}
	later := now + int64(time.Minute)
	old.use(later, 1)
	old.coolUntil.Store(0)
	if old.fail(later, classInternal, false, p) {
		t.Fatal("failures counted across minutes")
	}
}

// allowed_fails_policy counts failures per error class: a bad key on one
// deployment cools it at the first 401 (AuthenticationErrorAllowedFails:
// 0), 500s on the other at the third (InternalServerErrorAllowedFails: 2).
func TestAllowedFailsPolicyPerClass(t *testing.T) {
	var authCalls, serverCalls atomic.Int64
	badKey := fakeUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		authCalls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		_, _ = w.Write([]byte(`{"error":{"message":"bad key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`))
	})
	broken := fakeUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		serverCalls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(500)
		_, _ = w.Write([]byte(`{"error":{"message":"boom","type":"server_error","param":null,"code":null}}`))
	})
	cfg := settingsConfig(t, "router_settings: {num_retries: 0, allowed_fails_policy: {AuthenticationErrorAllowedFails: 0, InternalServerErrorAllowedFails: 2}}\n")
	for i, base := range []string{badKey, broken} {
		cfg.Deployments = append(cfg.Deployments, &config.Deployment{Index: i, ModelName: "m", ID: "m-" + string(rune('0'+i)),
			Model: "openai/gpt-4o", Provider: "openai", UpstreamModel: "gpt-4o", APIBase: base, APIKey: "k"})
	}
	reg, err := NewRegistry(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := reg.Lookup([]byte("m"))
	a, b := g.Deployments[0], g.Deployments[1]
	for i := 0; i < 40 && (a.CoolingDownUntil().IsZero() || b.CoolingDownUntil().IsZero()); i++ {
		out := AcquireResponse()
		if err := reg.Chat(g, request(RouteChat, `{"model":"m","messages":[]}`, false), out); err == nil {
			t.Fatal("a failing upstream answered")
		}
		ReleaseResponse(out)
		if got, want := !a.CoolingDownUntil().IsZero(), authCalls.Load() >= 1; got != want {
			t.Fatalf("after %d 401s: cooling %v", authCalls.Load(), got)
		}
		if got, want := !b.CoolingDownUntil().IsZero(), serverCalls.Load() >= 3; got != want {
			t.Fatalf("after %d 500s: cooling %v", serverCalls.Load(), got)
		}
	}
	if a.CoolingDownUntil().IsZero() || b.CoolingDownUntil().IsZero() {
		t.Fatalf("not both cooled: 401s %d, 500s %d", authCalls.Load(), serverCalls.Load())
	}
	if authCalls.Load() != 1 {
		t.Fatalf("the deployment with the bad key was called %d times while cooling", authCalls.Load())
	}
}

// allowed_fails_policy is parsed like retry_policy; a bad class or count
// names the key. An allowed_fails of LiteLLM's default keeps the rate.
func TestAllowedFailsPolicySettings(t *testing.T) {
	p, errs := newPolicy(settingsConfig(t, "router_settings: {allowed_fails: 3}\n"))
	if len(errs) != 0 || p.countFails {
		t.Fatalf("allowed_fails 3: countFails %v %v", p.countFails, errs)
	}
	p, errs = newPolicy(settingsConfig(t, "litellm_settings: {allowed_fails_policy: {TimeoutErrorAllowedFails: 7}}\n"))
	if len(errs) != 0 || !p.countFails || p.allowedFailsFor(classTimeout) != 7 || p.allowedFailsFor(classInternal) != DefaultAllowedFails {
		t.Fatalf("policy: %+v %v", p.allowedFailsPolicy, errs)
	}
	_, err := config.Parse([]byte("router_settings: {allowed_fails_policy: {TimeoutErrorRetries: 1, RateLimitErrorAllowedFails: -2}}\n"), config.Options{})
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{"router_settings.allowed_fails_policy.TimeoutErrorRetries", "unknown key", "router_settings.allowed_fails_policy.RateLimitErrorAllowedFails"} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors do not say %q: %s", want, msg)
		}
	}
}

// A 404 for something the client named (a stored response id, a model
// under a wildcard deployment) cools nothing: any key could otherwise
// take deployments out for everyone by asking for what does not exist.
func TestClientNamedNotFoundDoesNotCoolDown(t *testing.T) {
	cfg := &config.Config{}
	for i, model := range []string{"gpt-4o", "gpt-4o", "*", "*"} {
		name := "m"
		if model == "*" {
			name = "w"
		}
		cfg.Deployments = append(cfg.Deployments, &config.Deployment{Index: i, ModelName: name, ID: name + "-" + string(rune('0'+i)),
			Model: "openai/" + model, Provider: "openai", UpstreamModel: model, APIBase: "http://127.0.0.1:1/v1", APIKey: "k"})
	}
	reg, err := NewRegistry(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixNano()
	notFound := &Error{Status: 404, Type: "invalid_request_error", Code: "not_found"}
	m, w := reg.Lookup([]byte("m")), reg.Lookup([]byte("w"))
	for range 10 {
		m.Deployments[0].health.use(now, 1)
		reg.noteFailure(m.Deployments[0], m, RouteResponseGet, notFound, now)
		w.Deployments[0].health.use(now, 1)
		reg.noteFailure(w.Deployments[0], w, RouteChat, notFound, now)
	}
	if !m.Deployments[0].CoolingDownUntil().IsZero() || !w.Deployments[0].CoolingDownUntil().IsZero() {
		t.Fatal("a 404 for a client-named object cooled a deployment down")
	}
	// A 404 for the model a deployment is configured with is its own.
	reg.noteFailure(m.Deployments[1], m, RouteChat, notFound, now)
	if m.Deployments[1].CoolingDownUntil().IsZero() {
		t.Fatal("a 404 for the deployment's own model did not cool it")
	}
}
