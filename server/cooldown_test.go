package server

import (
	"context"
	"errors"
	"github.com/openai/openai-go/v3"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
)

// Cooldowns seen by a client of the gateway: upstream noise must never
// become 429 deployments_cooling_down, a deployment failing most of its
// calls is skipped while the group has another, and an outage answers
// with the upstream's error at once.

// failEvery answers a 500 to every n-th call (the n-th, 2n-th, ...) and a
// chat completion to the others: n=20 is 5% upstream errors, exactly.
func failEvery(n int64) func(http.ResponseWriter, *http.Request, []byte) {
	var calls atomic.Int64
	fail, ok := status(500), answerJSON("ok")
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		if calls.Add(1)%n == 0 {
			fail(w, r, body)
			return
		}
		ok(w, r, body)
	}
}

// failPattern answers the i-th call (from 0) by pattern[i%len(pattern)]:
// true is a 500.
func failPattern(pattern ...bool) func(http.ResponseWriter, *http.Request, []byte) {
	var calls atomic.Int64
	fail, ok := status(500), answerJSON("ok")
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		if pattern[(calls.Add(1)-1)%int64(len(pattern))] {
			fail(w, r, body)
			return
		}
		ok(w, r, body)
	}
}

// burst sends n chat calls at concurrency c and returns every answer.
func burst(t *testing.T, gw *gateway, n, c int) []rawResponse {
	t.Helper()
	out := make([]rawResponse, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				out[i] = rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey)
			}
		})
	}
	wg.Wait()
	return out
}

// statuses counts the answers by status, and those that are cooldown
// refusals.
func statuses(rs []rawResponse) (byStatus map[int]int, cooling int) {
	byStatus = map[int]int{}
	for _, r := range rs {
		byStatus[r.StatusCode]++
		if strings.Contains(r.Body, "deployments_cooling_down") {
			cooling++
		}
	}
	return byStatus, cooling
}

// Issue 13: 5% upstream 500s with default router settings made about
// half of the answers 429 deployments_cooling_down, for a group of two
// and for a single deployment. Retries absorb that noise; no call may
// be refused for it.
func TestFivePercentUpstreamErrorsNeverAnswerCooling(t *testing.T) {
	for _, size := range []int{2, 1} {
		up := newFakeOpenAI(t)
		up.setHandler(failEvery(20))
		var deps = []*config.Deployment{}
		for i := range size {
			deps = append(deps, dep(i, "m", "openai/m", up.base(), "k"))
		}
		gw := startGateway(t, testConfig(deps...)) // default router settings
		rs := burst(t, gw, 200, 5)
		byStatus, cooling := statuses(rs)
		if cooling != 0 || byStatus[200] != len(rs) {
			t.Errorf("%d deployment(s): answers %v, %d of them cooling-down refusals", size, byStatus, cooling)
		}
	}
}

// A deployment failing 60% of its calls is taken out while its group has
// a healthy one; the healthy one's own 5% noise cools nothing.
func TestDeploymentFailingMostCallsIsSkipped(t *testing.T) {
	bad, good := newFakeOpenAI(t), newFakeOpenAI(t)
	bad.setHandler(failPattern(true, false, true, false, true))
	good.setHandler(failEvery(20))
	// A cooldown longer than the burst: the bad deployment stays out.
	gw := startGateway(t, relConfig(map[string]any{"cooldown_time": 60},
		dep(0, "m", "openai/m", bad.base(), "k"), dep(1, "m", "openai/m", good.base(), "k")))
	rs := burst(t, gw, 200, 5)
	byStatus, cooling := statuses(rs)
	if cooling != 0 || byStatus[200] != len(rs) {
		t.Errorf("answers %v, %d cooling-down refusals", byStatus, cooling)
	}
	// Cooled after 5 calls (3 failed), plus what was in flight then.
	if n := len(bad.requests()); n > 15 {
		t.Errorf("the deployment failing 60%% got %d calls, want it skipped after 5", n)
	}
	m := scrape(t, gw)
	if m[`llmedge_deployment_cooldowns_total{model_name="m",deployment="m-0"}`] != 1 || m[`llmedge_deployment_cooldowns_total{model_name="m",deployment="m-1"}`] != 0 {
		t.Errorf("cooldowns: bad %v good %v", m[`llmedge_deployment_cooldowns_total{model_name="m",deployment="m-0"}`], m[`llmedge_deployment_cooldowns_total{model_name="m",deployment="m-1"}`])
	}
}

// A group's only deployment is never cooled down, by failure rate or by
// count: every call reaches it and the client gets its answer.
func TestOnlyDeploymentNeverCoolsDown(t *testing.T) {
	for _, router := range []map[string]any{{"num_retries": 0}, {"num_retries": 0, "allowed_fails": 0}} {
		up := newFakeOpenAI(t)
		up.setHandler(status(500))
		gw := startGateway(t, relConfig(router, dep(0, "m", "openai/m", up.base(), "k")))
		for i := range 12 {
			r := rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey)
			if r.StatusCode != 500 || !strings.Contains(r.Body, "injected 500") {
				t.Fatalf("%v: call %d: %d %s", router, i, r.StatusCode, r.Body)
			}
		}
		if n := len(up.requests()); n != 12 {
			t.Fatalf("%v: upstream calls %d, want 12", router, n)
		}
	}
}

// A hard outage of every deployment (connection refused) answers each
// call at once with the upstream-shaped 503, and once the deployments
// cooled down a call tries each of them once, without backoff retries.
func TestHardOutageAnswersPromptlyWithUpstreamError(t *testing.T) {
	var deps = []*config.Deployment{}
	for i := range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := "http://" + ln.Addr().String() + "/v1"
		ln.Close()
		deps = append(deps, dep(i, "m", "openai/m", base, "k"))
	}
	gw := startGateway(t, testConfig(deps...)) // default router settings: 0.5 s backoff
	burst(t, gw, 20, 5)                        // cools both
	start := time.Now()
	rs := burst(t, gw, 20, 5)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("20 calls took %s during the outage", took)
	}
	for _, r := range rs {
		if r.StatusCode != 503 || !strings.Contains(r.Body, "upstream_unavailable") || r.Header.Get("X-Llmedge-Attempts") != "2" {
			t.Fatalf("status %d attempts %q: %s", r.StatusCode, r.Header.Get("X-Llmedge-Attempts"), r.Body)
		}
	}
}

// A provider's 429 is its load signal: Retry-After keeps the deployment
// out of first picks for that long, and it never cools the deployment
// down (LiteLLM cools on one 429, which turns rate-limit noise into
// refusals).
func TestProvider429DoesNotCoolDown(t *testing.T) {
	limited, other := newFakeOpenAI(t), newFakeOpenAI(t)
	limited.setHandler(status(429, "retry-after-ms: 20"))
	other.setHandler(answerJSON("ok"))
	gw := startGateway(t, testConfig(dep(0, "m", "openai/m", limited.base(), "k"), dep(1, "m", "openai/m", other.base(), "k")))
	waitFor(t, 5*time.Second, "six 429s from the limited deployment", func() bool {
		if r := rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey); r.StatusCode != 200 {
			t.Fatalf("status %d: %s", r.StatusCode, r.Body)
		}
		return len(limited.requests()) >= 6
	})
	if c := scrape(t, gw)[`llmedge_deployment_cooldowns_total{model_name="m",deployment="m-0"}`]; c != 0 {
		t.Fatalf("429s cooled the deployment down %v times", c)
	}
}

// With allowed_fails set (LiteLLM's count semantics) a deployment that
// failed more than allowed_fails times this minute is left out for
// cooldown_time, the rest of its group answers, and it is used again
// after.
func TestCooldownEntryAndRecovery(t *testing.T) {
	bad, good := newFakeOpenAI(t), newFakeOpenAI(t)
	bad.setHandler(status(503))
	good.setHandler(answerJSON("good"))
	gw := startGateway(t, relConfig(map[string]any{"num_retries": 1, "allowed_fails": 1, "cooldown_time": 0.4},
		dep(0, "m", "openai/m", bad.base(), "k"), dep(1, "m", "openai/m", good.base(), "k")))
	waitFor(t, 5*time.Second, "two failures of the bad deployment", func() bool {
		if r := rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey); r.StatusCode != 200 {
			t.Fatalf("status %d: %s", r.StatusCode, r.Body)
		}
		return len(bad.requests()) == 2
	})
	cooledAt := time.Now()
	for range 10 {
		if r := rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey); r.StatusCode != 200 {
			t.Fatalf("during cooldown: %d %s", r.StatusCode, r.Body)
		}
	}
	if n := len(bad.requests()); n != 2 && time.Since(cooledAt) < 300*time.Millisecond {
		t.Fatalf("calls to the cooling deployment: %d, want 2 (no call while it cools)", n)
	}
	bad.setHandler(answerJSON("recovered"))
	waitFor(t, 3*time.Second, "recovery", func() bool {
		r := rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey)
		return strings.Contains(r.Body, "recovered")
	})
	if since := time.Since(cooledAt); since < 300*time.Millisecond {
		t.Fatalf("recovered after %s, before cooldown_time", since)
	}
}

// Every deployment cooling down: the call still tries each of them once,
// the one that recovers soonest first, and the client gets the
// upstream's own error (here a RateLimit error for the SDK), never a
// refusal without an upstream call.
func TestAllDeploymentsCoolingDownStillTried(t *testing.T) {
	a, b := newFakeOpenAI(t), newFakeOpenAI(t)
	a.setHandler(status(500))
	b.setHandler(status(429))
	gw := startGateway(t, relConfig(map[string]any{"num_retries": 1, "allowed_fails": 0, "cooldown_time": 3},
		dep(0, "m", "openai/m", a.base(), "k"), dep(1, "m", "openai/m", b.base(), "k")))
	r := rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey)
	first := r.StatusCode
	if len(a.requests()) != 1 || len(b.requests()) != 1 || r.Header.Get("X-Llmedge-Attempts") != "2" {
		t.Fatalf("calls a=%d b=%d attempts %q", len(a.requests()), len(b.requests()), r.Header.Get("X-Llmedge-Attempts"))
	}
	// Both cooled; the one cooled first recovers first and is tried
	// first, so the other one's error is the answer, as in the first call.
	r = rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey)
	if r.StatusCode != first || strings.Contains(r.Body, "deployments_cooling_down") || r.Header.Get("X-Llmedge-Attempts") != "2" {
		t.Fatalf("status %d (first %d) attempts %q: %s", r.StatusCode, first, r.Header.Get("X-Llmedge-Attempts"), r.Body)
	}
	if len(a.requests()) != 2 || len(b.requests()) != 2 {
		t.Fatalf("calls a=%d b=%d, want 2 each", len(a.requests()), len(b.requests()))
	}
	// The SDK sees the upstream's error.
	client := sdk(gw, testMasterKey)
	p := userMsg("x")
	p.Model = "m"
	_, err := client.Chat.Completions.New(context.Background(), p)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || (apiErr.StatusCode != 429 && apiErr.StatusCode != 500) {
		t.Fatalf("sdk err %v", err)
	}
}
