package upstream_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/llmedge/llmedge/internal/wait"
	"github.com/llmedge/llmedge/upstream"
	pt "github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/llmedge/llmedge/upstream/upstreamtest"
)

// Deployment selection against fake upstreams: least-busy and rpm.

func TestLeastBusyRouting(t *testing.T) {
	release := make(chan struct{})
	slow := pt.NewUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
		pt.OpenAIAnswer("slow")(w, r, body)
	})
	fast := pt.NewUpstream(t, nil)
	reg := routerRegistry(t, "routing_strategy: least-busy", openaiDep("m", slow), openaiDep("m", fast))
	// Occupy one deployment; while it is busy every request goes to the
	// other.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 50 && len(slow.Requests()) == 0; i++ {
			out := upstream.AcquireResponse()
			_ = reg.Chat(reg.Lookup([]byte("m")), upstreamtest.Request(chatBody, upstream.RouteChat), out)
			upstream.ReleaseResponse(out)
		}
	}()
	wait.For(t, 3*time.Second, "a call held by the slow deployment", func() bool { return len(slow.Requests()) == 1 })
	before := len(fast.Requests())
	for i := 0; i < 5; i++ {
		if r := upstreamtest.Chat(t, reg, chatBody); r.Deployment != "m-1" {
			t.Fatalf("request %d went to %s while m-0 was busy", i, r.Deployment)
		}
	}
	close(release)
	<-done
	if len(fast.Requests())-before != 5 || len(slow.Requests()) != 1 {
		t.Fatalf("fast %d slow %d", len(fast.Requests())-before, len(slow.Requests()))
	}
}

func TestRPMLimitSkipsDeployment(t *testing.T) {
	a, b := pt.NewUpstream(t, nil), pt.NewUpstream(t, nil)
	da, db := openaiDep("m", a), openaiDep("m", b)
	da.RPM, db.RPM = 2, 1
	reg := routerRegistry(t, "", da, db)
	for i := 0; i < 3; i++ {
		if r := upstreamtest.Chat(t, reg, chatBody); r.Status != 200 {
			t.Fatalf("request %d: %d", i, r.Status)
		}
	}
	if len(a.Requests()) != 2 || len(b.Requests()) != 1 {
		t.Fatalf("a=%d b=%d, want the limits 2 and 1", len(a.Requests()), len(b.Requests()))
	}
	if r := upstreamtest.Chat(t, reg, chatBody); r.Status != 429 || r.Headers["Retry-After"] == "" {
		t.Fatalf("over every limit: %d %q", r.Status, r.Headers["Retry-After"])
	}
}
