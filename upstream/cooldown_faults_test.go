package upstream_test

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/wait"
	"github.com/llmedge/llmedge/upstream"
	pt "github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/llmedge/llmedge/upstream/upstreamtest"
)

// Cooldowns seen by the client of a call: upstream noise must never
// become 429 deployments_cooling_down, a deployment failing most of its
// calls is skipped while the group has another, and an outage answers
// with the upstream's error at once.

// failEvery answers a 500 to every n-th call (the n-th, 2n-th, ...) and a
// chat completion to the others: n=20 is 5% upstream errors, exactly.
func failEvery(n int64) pt.Handler {
	var calls atomic.Int64
	fail, ok := pt.Status(500), pt.OpenAIAnswer("ok")
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
func failPattern(pattern ...bool) pt.Handler {
	var calls atomic.Int64
	fail, ok := pt.Status(500), pt.OpenAIAnswer("ok")
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		if pattern[(calls.Add(1)-1)%int64(len(pattern))] {
			fail(w, r, body)
			return
		}
		ok(w, r, body)
	}
}

// burst sends n chat calls at concurrency c and returns every answer.
func burst(t *testing.T, reg *upstream.Registry, n, c int) []upstreamtest.Result {
	t.Helper()
	out := make([]upstreamtest.Result, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				out[i] = upstreamtest.Chat(t, reg, chatBody)
			}
		})
	}
	wg.Wait()
	return out
}

// statuses counts the answers by status, and those that are cooldown
// refusals.
func statuses(rs []upstreamtest.Result) (byStatus map[int]int, cooling int) {
	byStatus = map[int]int{}
	for _, r := range rs {
		byStatus[r.Status]++
		if strings.Contains(r.Body, "deployments_cooling_down") {
			cooling++
		}
	}
	return byStatus, cooling
}

// cooldowns counts the Cooldown events per deployment id (what
// llmedge_deployment_cooldowns_total counts).
type cooldowns struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *cooldowns) Attempt(*upstream.Deployment, bool) {}
func (c *cooldowns) Fallback(from, to *upstream.Group)  {}
func (c *cooldowns) Cooldown(d *upstream.Deployment)    { c.mu.Lock(); c.n[d.ID]++; c.mu.Unlock() }
func (c *cooldowns) of(id string) int                   { c.mu.Lock(); defer c.mu.Unlock(); return c.n[id] }
func observeCooldowns(reg *upstream.Registry) *cooldowns {
	c := &cooldowns{n: map[string]int{}}
	reg.SetObserver(c)
	return c
}

// Issue 13: 5% upstream 500s with default router settings made about
// half of the answers 429 deployments_cooling_down, for a group of two
// and for a single deployment. Retries absorb that noise; no call may
// be refused for it.
func TestFivePercentUpstreamErrorsNeverAnswerCooling(t *testing.T) {
	for _, size := range []int{2, 1} {
		up := pt.NewUpstream(t, failEvery(20))
		var deps []*config.Deployment
		for range size {
			deps = append(deps, openaiDep("m", up))
		}
		reg := upstreamtest.Registry(t, upstreamtest.Config(t, "", deps...), nil) // default router settings
		rs := burst(t, reg, 200, 5)
		byStatus, cooling := statuses(rs)
		if cooling != 0 || byStatus[200] != len(rs) {
			t.Errorf("%d deployment(s): answers %v, %d of them cooling-down refusals", size, byStatus, cooling)
		}
	}
}

// A deployment failing 60% of its calls is taken out while its group has
// a healthy one; the healthy one's own 5% noise cools nothing.
func TestDeploymentFailingMostCallsIsSkipped(t *testing.T) {
	bad := pt.NewUpstream(t, failPattern(true, false, true, false, true))
	good := pt.NewUpstream(t, failEvery(20))
	// A cooldown longer than the burst: the bad deployment stays out.
	reg := routerRegistry(t, "cooldown_time: 60", openaiDep("m", bad), openaiDep("m", good))
	cd := observeCooldowns(reg)
	rs := burst(t, reg, 200, 5)
	byStatus, cooling := statuses(rs)
	if cooling != 0 || byStatus[200] != len(rs) {
		t.Errorf("answers %v, %d cooling-down refusals", byStatus, cooling)
	}
	// Cooled after 5 calls (3 failed), plus what was in flight then.
	if n := len(bad.Requests()); n > 15 {
		t.Errorf("the deployment failing 60%% got %d calls, want it skipped after 5", n)
	}
	if cd.of("m-0") != 1 || cd.of("m-1") != 0 {
		t.Errorf("cooldowns: bad %d good %d", cd.of("m-0"), cd.of("m-1"))
	}
}

// A group's only deployment is never cooled down, by failure rate or by
// count: every call reaches it and the client gets its answer.
func TestOnlyDeploymentNeverCoolsDown(t *testing.T) {
	for _, router := range []string{"num_retries: 0", "num_retries: 0, allowed_fails: 0"} {
		up := pt.NewUpstream(t, pt.Status(500))
		reg := routerRegistry(t, router, openaiDep("m", up))
		for i := range 12 {
			if r := upstreamtest.Chat(t, reg, chatBody); r.Status != 500 || !strings.Contains(r.Body, "injected 500") {
				t.Fatalf("%v: call %d: %d %s", router, i, r.Status, r.Body)
			}
		}
		if n := len(up.Requests()); n != 12 {
			t.Fatalf("%v: upstream calls %d, want 12", router, n)
		}
	}
}

// A hard outage of every deployment (connection refused) answers each
// call at once with the upstream-shaped 503, and once the deployments
// cooled down a call tries each of them once, without backoff retries.
func TestHardOutageAnswersPromptlyWithUpstreamError(t *testing.T) {
	var deps []*config.Deployment
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := "http://" + ln.Addr().String() + "/v1"
		ln.Close()
		deps = append(deps, upstreamtest.Dep("m", "openai/m", base, "k"))
	}
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "", deps...), nil) // default router settings: 0.5 s backoff
	burst(t, reg, 20, 5)                                                      // cools both
	start := time.Now()
	rs := burst(t, reg, 20, 5)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("20 calls took %s during the outage", took)
	}
	for _, r := range rs {
		if r.Status != 503 || !strings.Contains(r.Body, "upstream_unavailable") || r.Attempts != 2 {
			t.Fatalf("status %d attempts %d: %s", r.Status, r.Attempts, r.Body)
		}
	}
}

// A provider's 429 is its load signal: Retry-After keeps the deployment
// out of first picks for that long, and it never cools the deployment
// down (LiteLLM cools on one 429, which turns rate-limit noise into
// refusals).
func TestProvider429DoesNotCoolDown(t *testing.T) {
	limited := pt.NewUpstream(t, pt.Status(429, "retry-after-ms: 20"))
	other := pt.NewUpstream(t, pt.OpenAIAnswer("ok"))
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "", openaiDep("m", limited), openaiDep("m", other)), nil)
	cd := observeCooldowns(reg)
	wait.For(t, 5*time.Second, "six 429s from the limited deployment", func() bool {
		if r := upstreamtest.Chat(t, reg, chatBody); r.Status != 200 {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		return len(limited.Requests()) >= 6
	})
	if c := cd.of("m-0"); c != 0 {
		t.Fatalf("429s cooled the deployment down %d times", c)
	}
}

// With allowed_fails set (LiteLLM's count semantics) a deployment that
// failed more than allowed_fails times this minute is left out for
// cooldown_time, the rest of its group answers, and it is used again
// after.
func TestCooldownEntryAndRecovery(t *testing.T) {
	bad := pt.NewUpstream(t, pt.Status(503))
	good := pt.NewUpstream(t, pt.OpenAIAnswer("good"))
	reg := routerRegistry(t, "num_retries: 1, allowed_fails: 1, cooldown_time: 0.4", openaiDep("m", bad), openaiDep("m", good))
	wait.For(t, 5*time.Second, "two failures of the bad deployment", func() bool {
		if r := upstreamtest.Chat(t, reg, chatBody); r.Status != 200 {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		return len(bad.Requests()) == 2
	})
	cooledAt := time.Now()
	for range 10 {
		if r := upstreamtest.Chat(t, reg, chatBody); r.Status != 200 {
			t.Fatalf("during cooldown: %d %s", r.Status, r.Body)
		}
	}
	if n := len(bad.Requests()); n != 2 && time.Since(cooledAt) < 300*time.Millisecond {
		t.Fatalf("calls to the cooling deployment: %d, want 2 (no call while it cools)", n)
	}
	bad.SetHandler(pt.OpenAIAnswer("recovered"))
	wait.For(t, 3*time.Second, "recovery", func() bool {
		return strings.Contains(upstreamtest.Chat(t, reg, chatBody).Body, "recovered")
	})
	if since := time.Since(cooledAt); since < 300*time.Millisecond {
		t.Fatalf("recovered after %s, before cooldown_time", since)
	}
}

// Every deployment cooling down: the call still tries each of them once,
// the one that recovers soonest first, and the client gets the
// upstream's own error, never a refusal without an upstream call.
func TestAllDeploymentsCoolingDownStillTried(t *testing.T) {
	a, b := pt.NewUpstream(t, pt.Status(500)), pt.NewUpstream(t, pt.Status(429))
	reg := routerRegistry(t, "num_retries: 1, allowed_fails: 0, cooldown_time: 3", openaiDep("m", a), openaiDep("m", b))
	r := upstreamtest.Chat(t, reg, chatBody)
	first := r.Status
	if len(a.Requests()) != 1 || len(b.Requests()) != 1 || r.Attempts != 2 {
		t.Fatalf("calls a=%d b=%d attempts %d", len(a.Requests()), len(b.Requests()), r.Attempts)
	}
	// Both cooled; the one cooled first recovers first and is tried
	// first, so the other one's error is the answer, as in the first call.
	r = upstreamtest.Chat(t, reg, chatBody)
	if r.Status != first || strings.Contains(r.Body, "deployments_cooling_down") || r.Attempts != 2 {
		t.Fatalf("status %d (first %d) attempts %d: %s", r.Status, first, r.Attempts, r.Body)
	}
	if len(a.Requests()) != 2 || len(b.Requests()) != 2 {
		t.Fatalf("calls a=%d b=%d, want 2 each", len(a.Requests()), len(b.Requests()))
	}
	// The upstream's own error, as the client's SDK reads it.
	if r := upstreamtest.Chat(t, reg, chatBody); (r.Status != 429 && r.Status != 500) || !strings.Contains(r.Body, "injected") {
		t.Fatalf("third call: %d %s", r.Status, r.Body)
	}
}
