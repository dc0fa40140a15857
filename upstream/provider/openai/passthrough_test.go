package openai_test

import (
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/llmedge/llmedge/upstream/upstreamtest"
)

// The OpenAI-compatible pass-through against a fake OpenAI API: the
// body goes out byte for byte but for "model", the answer and the
// stream come back as the upstream wrote them.

func TestPassThroughRewritesOnlyTheModel(t *testing.T) {
	up := providertest.NewUpstream(t, nil)
	d := upstreamtest.Dep("gpt", "openai/gpt-4o-2024-08-06", up.URL()+"/v1", "sk-up")
	d.ExtraHeaders = []config.Header{{Name: "X-Gateway", Value: "g1"}}
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "", d), nil)
	body := `{"messages":[{"role":"user","content":"hi"}],  "model" : "gpt", "seed":7,"x_vendor":{"a":[1,2]}}`
	req := upstreamtest.Request(body, upstream.RouteChat)
	req.UserID = []byte("u-1")
	req.MemoryRouting = true // user_id_mappings configured
	r := upstreamtest.Do(t, reg, req)
	if c := r.Completion(t); c.Choices[0].Message.Content != "Hello from the fake upstream." || c.Model != "gpt-4o-2024-08-06" {
		t.Fatalf("answer %s", r.Body)
	}
	seen := up.Requests()[0]
	want := strings.Replace(body, `"gpt"`, `"gpt-4o-2024-08-06"`, 1)
	if string(seen.Body) != want || seen.Path != "/v1/chat/completions" {
		t.Fatalf("sent %s %s, want %s", seen.Path, seen.Body, want)
	}
	h := seen.Header
	if h.Get("Authorization") != "Bearer sk-up" || h.Get("X-Gateway") != "g1" || h.Get("X-Request-Id") != "req-test" || h.Get("X-Sm-User-Id") != "u-1" {
		t.Fatalf("headers %v", h)
	}
	// Rate-limit headers reach the client, cookies do not.
	if r.Headers["X-Ratelimit-Remaining-Requests"] != "99" || r.Headers["Set-Cookie"] != "" {
		t.Fatalf("relayed headers %v", r.Headers)
	}
	if !r.Usage.Reported || r.Usage.PromptTokens != 5 || r.Usage.CompletionTokens != 6 {
		t.Fatalf("usage %+v", r.Usage)
	}
}

func TestPassThroughStreamIsRelayedAsSent(t *testing.T) {
	up := providertest.NewUpstream(t, providertest.OpenAIStream([]string{"one", "two"}, 0, nil))
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "", upstreamtest.Dep("m", "openai/m", up.URL()+"/v1", "k")), nil)
	r := upstreamtest.Chat(t, reg, `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`)
	acc := r.Accumulate(t)
	if r.RelayErr != nil || acc.Choices[0].Message.Content != "one two" || !strings.HasSuffix(r.Body, "data: [DONE]\n\n") {
		t.Fatalf("relay %v stream %q", r.RelayErr, r.Body)
	}
	if n := strings.Count(r.Body, "data: "); n != 5 {
		t.Fatalf("%d events relayed, want the upstream's 5:\n%s", n, r.Body)
	}
}

// An upstream error body reaches the client as the upstream wrote it,
// with the deployment's key scrubbed.
func TestPassThroughErrorBodyWithKeyScrubbed(t *testing.T) {
	up := providertest.NewUpstream(t, providertest.JSONAnswer(401, `{"error":{"message":"Incorrect API key provided: sk-up-secret-123","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`))
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "", upstreamtest.Dep("m", "openai/m", up.URL()+"/v1", "sk-up-secret-123")), nil)
	r := upstreamtest.Chat(t, reg, `{"model":"m","messages":[{"role":"user","content":"x"}]}`)
	if r.Status != 401 || strings.Contains(r.Body, "sk-up-secret-123") || !strings.Contains(r.Body, upstream.Redacted) || !strings.Contains(r.Body, `"code":"invalid_api_key"`) {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
}

// Every route of an OpenAI-compatible server is at its api_base.
func TestPassThroughRoutesAtTheBaseURL(t *testing.T) {
	up := providertest.NewUpstream(t, providertest.JSONAnswer(200, `{"object":"list","data":[]}`))
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "", upstreamtest.Dep("m", "openai/m", up.URL()+"/v1/", "k")), nil)
	for route, path := range map[upstream.Route]string{
		upstream.RouteChat:        "/v1/chat/completions",
		upstream.RouteCompletions: "/v1/completions",
		upstream.RouteEmbeddings:  "/v1/embeddings",
		upstream.RouteResponses:   "/v1/responses",
	} {
		n := len(up.Requests())
		if r := upstreamtest.Do(t, reg, upstreamtest.Request(`{"model":"m","input":"x"}`, route)); r.Status != 200 {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
		if got := up.Requests()[n].Path; got != path {
			t.Errorf("route %d went to %s, want %s", route, got, path)
		}
	}
}

// OpenAI's own endpoint without a key cannot work: the deployment is
// unavailable, saying which variable is missing.
func TestOpenAIWithoutKeyIs503(t *testing.T) {
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "", upstreamtest.Dep("m", "openai/gpt-4o", "", "")), nil)
	r := upstreamtest.Chat(t, reg, `{"model":"m","messages":[{"role":"user","content":"x"}]}`)
	if r.Status != 503 || !strings.Contains(r.Body, "OPENAI_API_KEY") {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
}
