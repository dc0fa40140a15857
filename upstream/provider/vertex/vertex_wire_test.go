package vertex_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/llmedge/llmedge/upstream/upstreamtest"
)

// Vertex AI against a fake that runs Google's service-account token
// flow and checks the bearer on every call (providertest.Vertex).

func TestVertexGeminiThroughOpenAIEndpoint(t *testing.T) {
	up := providertest.NewVertex(t)
	keyFile := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(keyFile, up.ServiceAccountJSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	fromFile := upstreamtest.Dep("gemini-flash", "vertex_ai/gemini-2.5-flash", up.URL(), "")
	fromFile.Params = map[string]any{"vertex_project": "my-proj", "vertex_location": "europe-west4", "vertex_credentials": keyFile}
	inline := upstreamtest.Dep("gemini-pro", "vertex_ai/gemini-2.5-pro", up.URL(), "")
	inline.Params = map[string]any{"vertex_credentials": string(up.ServiceAccountJSON())}
	partner := upstreamtest.Dep("glm", "vertex_ai/zai-org/glm-5-maas", up.URL(), "")
	partner.Params = map[string]any{"vertex_project": "my-proj", "vertex_location": "global"}
	env := map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": keyFile}
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "", fromFile, inline, partner), env)

	chat := func(model string, stream bool) string {
		return fmt.Sprintf(`{"model":%q,"stream":%v,"messages":[{"role":"user","content":"hi"}]}`, model, stream)
	}
	for i := 0; i < 2; i++ {
		if c := upstreamtest.Chat(t, reg, chat("gemini-flash", false)).Completion(t); c.Choices[0].Message.Content != "Hello from Gemini on Vertex." {
			t.Fatalf("content %q", c.Choices[0].Message.Content)
		}
	}
	if got := upstreamtest.Chat(t, reg, chat("gemini-flash", true)).Accumulate(t).Choices[0].Message.Content; got != "Hello from Gemini on Vertex." {
		t.Fatalf("stream content %q", got)
	}
	// Three calls, one token: the token is cached until it expires.
	if n := up.TokensIssued(); n != 1 {
		t.Fatalf("tokens fetched = %d, want 1", n)
	}
	upstreamtest.Chat(t, reg, chat("gemini-pro", false)).Completion(t)
	upstreamtest.Chat(t, reg, chat("glm", false)).Completion(t)

	want := []providertest.VertexChat{
		{Path: "/v1/projects/my-proj/locations/europe-west4/endpoints/openapi/chat/completions", Auth: "Bearer ya29.fake-1", Model: "google/gemini-2.5-flash"},
		{Path: "/v1/projects/my-proj/locations/europe-west4/endpoints/openapi/chat/completions", Auth: "Bearer ya29.fake-1", Model: "google/gemini-2.5-flash"},
		{Path: "/v1/projects/my-proj/locations/europe-west4/endpoints/openapi/chat/completions", Auth: "Bearer ya29.fake-1", Model: "google/gemini-2.5-flash"},
		// project from the key's project_id, default location.
		{Path: "/v1/projects/proj-from-key/locations/us-central1/endpoints/openapi/chat/completions", Auth: "Bearer ya29.fake-2", Model: "google/gemini-2.5-pro"},
		// partner model ids are sent as written; credentials from
		// GOOGLE_APPLICATION_CREDENTIALS.
		{Path: "/v1/projects/my-proj/locations/global/endpoints/openapi/chat/completions", Auth: "Bearer ya29.fake-3", Model: "zai-org/glm-5-maas"},
	}
	if got := up.Chats(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("chats\n got %v\nwant %v", got, want)
	}
}

func TestVertexBadCredentials(t *testing.T) {
	up := providertest.NewVertex(t)
	var sa map[string]string
	_ = json.Unmarshal(up.ServiceAccountJSON(), &sa)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(other)
	sa["private_key"] = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	wrongKey, _ := json.Marshal(sa)

	bad := upstreamtest.Dep("bad-key", "vertex_ai/gemini-2.5-flash", up.URL(), "")
	bad.Params = map[string]any{"vertex_project": "p", "vertex_credentials": string(wrongKey)}
	missing := upstreamtest.Dep("no-file", "vertex_ai/gemini-2.5-flash", up.URL(), "")
	missing.Params = map[string]any{"vertex_project": "p", "vertex_credentials": "/nonexistent/sa.json"}
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "", bad, missing), nil)

	r := upstreamtest.Chat(t, reg, `{"model":"bad-key","messages":[{"role":"user","content":"x"}]}`)
	if r.Status != 503 || !strings.Contains(r.Body, "invalid_grant: bad signature") || strings.Contains(r.Body, "PRIVATE KEY") {
		t.Fatalf("rejected key: %d %s", r.Status, r.Body)
	}
	r = upstreamtest.Chat(t, reg, `{"model":"no-file","messages":[{"role":"user","content":"x"}]}`)
	if r.Status != 503 || !strings.Contains(r.Body, "/nonexistent/sa.json") {
		t.Fatalf("missing file: %d %s", r.Status, r.Body)
	}
}

func TestVertexClaudeThroughRawPredict(t *testing.T) {
	up := providertest.NewVertex(t)
	d := upstreamtest.Dep("claude", "vertex_ai/claude-sonnet-4-5@20250929", up.URL(), "")
	d.Params = map[string]any{"vertex_project": "my-proj", "vertex_location": "us-east5", "vertex_credentials": string(up.ServiceAccountJSON())}
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "", d), nil)
	resp := upstreamtest.Chat(t, reg, `{"model":"claude","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`).Completion(t)
	if resp.Choices[0].Message.Content != "Hello from Claude on Vertex." || resp.Choices[0].FinishReason != "stop" || resp.Usage.CompletionTokens != 6 {
		t.Fatalf("answer %+v", resp)
	}
	acc := upstreamtest.Chat(t, reg, `{"model":"claude","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}`).Accumulate(t)
	if acc.Choices[0].Message.Content != "Hello from Claude on Vertex." {
		t.Fatalf("stream content %q", acc.Choices[0].Message.Content)
	}
	chats := up.Chats()
	base := "/v1/projects/my-proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929"
	if len(chats) != 2 || chats[0].Path != base+":rawPredict" || chats[1].Path != base+":streamRawPredict" ||
		chats[0].Auth != "Bearer ya29.fake-1" {
		t.Fatalf("chats %v", chats)
	}
	if b := up.ClaudeBodies()[0]; b["max_tokens"] != 100.0 || providertest.JSONPath(b, "messages", 0, "role") != "user" {
		t.Fatalf("body %v", b)
	}
}
