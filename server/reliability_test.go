package server

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/openai/openai-go/v3/option"
)

// The router's outcome as a client sees it: the answer and the headers
// that say who answered after how many attempts, the Retry-After of a
// refused call, a client leaving during a backoff. Retries, fallbacks,
// timeouts and cooldowns themselves are tested beside the retry loop
// (upstream/*_faults_test.go).

const chatBody = `{"model":"m","messages":[{"role":"user","content":"x"}]}`
const streamReq = `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`

// relConfig is testConfig with router_settings (fast backoff unless the
// test sets its own).
func relConfig(router map[string]any, deps ...*config.Deployment) *config.Config {
	cfg := testConfig(deps...)
	r := map[string]any{"retry_backoff_seconds": 0.01, "retry_backoff_max_seconds": 0.05}
	for k, v := range router {
		r[k] = v
	}
	setSettings(cfg, "router_settings", r)
	return cfg
}

// status and waitThen are providertest's fault handlers.
var (
	status   = providertest.Status
	waitThen = providertest.WaitThen
)

func Test503ThenFallback(t *testing.T) {
	bad := newFakeOpenAI(t)
	bad.setHandler(status(503))
	good := newFakeOpenAI(t)
	cfg := relConfig(map[string]any{
		"num_retries": int64(2),
		"fallbacks":   []any{map[string]any{"m": []any{"missing-group", "backup"}}},
	}, dep(0, "m", "openai/m", bad.base(), "k"), dep(1, "backup", "openai/backup-model", good.base(), "k"))
	gw := startGateway(t, cfg)
	client := sdk(gw, testMasterKey)
	p := userMsg("x")
	p.Model = "m"
	var hdr *http.Response
	comp, err := client.Chat.Completions.New(context.Background(), p, option.WithResponseInto(&hdr))
	if err != nil {
		t.Fatal(err)
	}
	if comp.Choices[0].Message.Content != "Hello from the fake upstream." {
		t.Fatalf("content %q", comp.Choices[0].Message.Content)
	}
	if n := len(bad.requests()); n != 3 {
		t.Fatalf("failing deployment saw %d calls, want 1 + 2 retries", n)
	}
	if n := len(good.requests()); n != 1 || upstreamModel(good.requests()[0].Body) != "backup-model" {
		t.Fatalf("fallback saw %d calls", n)
	}
	if hdr.Header.Get("X-Llmedge-Attempts") != "4" || hdr.Header.Get("X-Llmedge-Model-Id") != "backup-1" {
		t.Fatalf("attempts %q model-id %q", hdr.Header.Get("X-Llmedge-Attempts"), hdr.Header.Get("X-Llmedge-Model-Id"))
	}
}

// A Retry-After longer than max_retry_wait_seconds is not waited for:
// the client gets the 429 and the Retry-After at once.
func TestRetryAfterBeyondCapIsReturned(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(status(429, "Retry-After: 20"))
	gw := startGateway(t, relConfig(map[string]any{"max_retry_wait_seconds": int64(5)}, dep(0, "m", "openai/m", up.base(), "k")))
	start := time.Now()
	resp := rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "20" {
		t.Fatalf("status %d retry-after %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if time.Since(start) > 3*time.Second || len(up.requests()) != 1 {
		t.Fatalf("took %s with %d upstream calls", time.Since(start), len(up.requests()))
	}
}

func TestClientDisconnectDuringBackoff(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(status(429, "Retry-After: 10"))
	gw := startGateway(t, relConfig(map[string]any{"max_retry_wait_seconds": int64(60)}, dep(0, "m", "openai/m", up.base(), "k")))
	conn, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	writeRequest(t, conn, "POST", "/v1/chat/completions", chatBody, "Authorization: Bearer "+testMasterKey)
	waitFor(t, 3*time.Second, "the first upstream call", func() bool { return len(up.requests()) == 1 })
	waitFor(t, 3*time.Second, "the gateway to sit in backoff", func() bool { return gw.srv.InFlight() == 1 })
	time.Sleep(50 * time.Millisecond)
	conn.Close()
	waitFor(t, 2*time.Second, "the backoff to end on disconnect", func() bool { return gw.srv.InFlight() == 0 })
	if n := len(up.requests()); n != 1 {
		t.Fatalf("upstream calls = %d, want 1", n)
	}
}
