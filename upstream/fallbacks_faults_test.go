package upstream_test

import (
	"testing"

	pt "github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/llmedge/llmedge/upstream/upstreamtest"
)

// Fallbacks against fake upstreams: which group a failing call moves
// to, and which failures never move it.

func Test503ThenFallback(t *testing.T) {
	bad := pt.NewUpstream(t, pt.Status(503))
	good := pt.NewUpstream(t, nil)
	backup := upstreamtest.Dep("backup", "openai/backup-model", good.URL()+"/v1", "k")
	reg := routerRegistry(t, "num_retries: 2, fallbacks: [{m: [missing-group, backup]}]", openaiDep("m", bad), backup)
	r := upstreamtest.Chat(t, reg, chatBody)
	if c := r.Completion(t); c.Choices[0].Message.Content != "Hello from the fake upstream." {
		t.Fatalf("content %q", c.Choices[0].Message.Content)
	}
	if n := len(bad.Requests()); n != 3 {
		t.Fatalf("failing deployment saw %d calls, want 1 + 2 retries", n)
	}
	if n := len(good.Requests()); n != 1 || pt.RequestModel(good.Requests()[0].Body) != "backup-model" {
		t.Fatalf("fallback saw %d calls", n)
	}
	if r.Attempts != 4 || r.Deployment != "backup-1" {
		t.Fatalf("attempts %d deployment %q", r.Attempts, r.Deployment)
	}
}

func TestContextWindowFallback(t *testing.T) {
	small := pt.NewUpstream(t, pt.JSONAnswer(400, `{"error":{"message":"This model's maximum context length is 8192 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`))
	big := pt.NewUpstream(t, nil)
	never := upstreamtest.Dep("never", "openai/never", "http://127.0.0.1:1/v1", "k")
	reg := routerRegistry(t, "context_window_fallbacks: [{m: [big]}], fallbacks: [{m: [never]}]", openaiDep("m", small), openaiDep("big", big), never)
	r := upstreamtest.Chat(t, reg, chatBody)
	if r.Status != 200 || len(small.Requests()) != 1 || len(big.Requests()) != 1 {
		t.Fatalf("status %d, small %d calls, big %d calls: %s", r.Status, len(small.Requests()), len(big.Requests()), r.Body)
	}
	// A plain 400 is the client's fault: no retry, no fallback.
	small.SetHandler(pt.Status(400))
	r = upstreamtest.Chat(t, reg, chatBody)
	if r.Status != 400 || len(small.Requests()) != 2 || len(big.Requests()) != 1 {
		t.Fatalf("plain 400: status %d, small %d, big %d", r.Status, len(small.Requests()), len(big.Requests()))
	}
}

func TestContentPolicyFallback(t *testing.T) {
	strict := pt.NewUpstream(t, pt.JSONAnswer(400, `{"error":{"message":"The response was filtered due to the prompt triggering content management policy.","type":"invalid_request_error","param":"prompt","code":"content_filter"}}`))
	lenient := pt.NewUpstream(t, nil)
	reg := routerRegistry(t, "content_policy_fallbacks: [{m: [other]}]", openaiDep("m", strict), openaiDep("other", lenient))
	r := upstreamtest.Chat(t, reg, chatBody)
	if r.Status != 200 || len(strict.Requests()) != 1 || len(lenient.Requests()) != 1 || r.Attempts != 2 {
		t.Fatalf("status %d strict %d lenient %d attempts %d", r.Status, len(strict.Requests()), len(lenient.Requests()), r.Attempts)
	}
}
