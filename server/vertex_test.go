package server

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/openai/openai-go/v3"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/llmedge/llmedge/upstream/provider/providertest"
)

// fakeVertex is Google's OAuth token endpoint plus Vertex AI's
// OpenAI-compatible chat endpoint, on one loopback server.
//
// POST /token follows the service-account flow (RFC 7523 JWT bearer
// grant as Google documents it): the form's assertion must be an RS256
// JWT signed by the test key, issued by the service account, for the
// token_uri audience and the cloud-platform scope. It answers an access
// token. POST /v1/projects/{p}/locations/{l}/endpoints/openapi/chat/completions
// requires that token as a bearer and answers OpenAI's format.
type fakeVertex struct {
	*fakeOpenAI
	key         *rsa.PrivateKey
	email       string
	tokensIssed atomic.Int32
	mu          sync.Mutex
	chats       []vertexChat
	// claudeBodies are the bodies of Claude (rawPredict) calls.
	claudeBodies []map[string]any
}

type vertexChat struct {
	Path, Auth, Model string
}

func newFakeVertex(t *testing.T) *fakeVertex {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeVertex{fakeOpenAI: newFakeOpenAI(t), key: key, email: "llmedge-test@my-proj.iam.gserviceaccount.com"}
	f.setHandler(f.route)
	return f
}

func (f *fakeVertex) root() string { return strings.TrimSuffix(f.base(), "/v1") }

// serviceAccountJSON is a service-account key file whose token_uri is
// the fake's token endpoint.
func (f *fakeVertex) serviceAccountJSON() []byte {
	der, _ := x509.MarshalPKCS8PrivateKey(f.key)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "proj-from-key", "private_key_id": "kid1",
		"private_key": string(pemKey), "client_email": f.email, "client_id": "123",
		"token_uri": f.root() + "/token",
	})
	return b
}

func (f *fakeVertex) route(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.URL.Path == "/token" {
		f.token(w, r, body)
		return
	}
	auth := r.Header.Get("Authorization")
	f.mu.Lock()
	f.chats = append(f.chats, vertexChat{Path: r.URL.Path, Auth: auth, Model: upstreamModel(body)})
	f.mu.Unlock()
	if !strings.HasPrefix(auth, "Bearer ya29.fake-") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		fmt.Fprint(w, `[{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}]`)
		return
	}
	if strings.Contains(r.URL.Path, "/publishers/anthropic/models/") {
		f.claude(w, r, body)
		return
	}
	if !strings.HasSuffix(r.URL.Path, "/endpoints/openapi/chat/completions") {
		w.WriteHeader(404)
		return
	}
	answerJSON("Hello from Gemini on Vertex.")(w, r, body)
}

func (f *fakeVertex) token(w http.ResponseWriter, r *http.Request, body []byte) {
	fail := func(msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":"invalid_grant","error_description":%q}`, msg)
	}
	// fakeOpenAI has read the body already.
	form, err := url.ParseQuery(string(body))
	if err != nil || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		fail("bad form")
		return
	}
	if form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		fail("grant_type")
		return
	}
	claims, err := verifyRS256(form.Get("assertion"), &f.key.PublicKey)
	if err != nil {
		fail(err.Error())
		return
	}
	if claims["iss"] != f.email || claims["aud"] != f.root()+"/token" || !strings.Contains(fmt.Sprint(claims["scope"]), "https://www.googleapis.com/auth/cloud-platform") {
		fail(fmt.Sprintf("claims %v", claims))
		return
	}
	n := f.tokensIssed.Add(1)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":"ya29.fake-%d","expires_in":3599,"token_type":"Bearer"}`, n)
}

func verifyRS256(jwt string, pub *rsa.PublicKey) (map[string]any, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	var hdr map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if json.Unmarshal(hb, &hdr) != nil || hdr["alg"] != "RS256" {
		return nil, errors.New("alg must be RS256")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return nil, errors.New("bad signature")
	}
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	if err := json.Unmarshal(cb, &claims); err != nil {
		return nil, err
	}
	return claims, nil
}

func TestVertexGeminiThroughOpenAIEndpoint(t *testing.T) {
	up := newFakeVertex(t)
	keyFile := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(keyFile, up.serviceAccountJSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	fromFile := dep(0, "gemini-flash", "vertex_ai/gemini-2.5-flash", up.root(), "")
	fromFile.Params = map[string]any{"vertex_project": "my-proj", "vertex_location": "europe-west4", "vertex_credentials": keyFile}
	inline := dep(1, "gemini-pro", "vertex_ai/gemini-2.5-pro", up.root(), "")
	inline.Params = map[string]any{"vertex_credentials": string(up.serviceAccountJSON())}
	partner := dep(2, "glm", "vertex_ai/zai-org/glm-5-maas", up.root(), "")
	partner.Params = map[string]any{"vertex_project": "my-proj", "vertex_location": "global"}
	env := map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": keyFile}
	gw := startGatewayEnv(t, testConfig(fromFile, inline, partner), env)
	client := sdk(gw, testMasterKey)

	p := userMsg("hi")
	p.Model = "gemini-flash"
	for i := 0; i < 2; i++ {
		resp, err := client.Chat.Completions.New(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Choices[0].Message.Content != "Hello from Gemini on Vertex." {
			t.Fatalf("content %q", resp.Choices[0].Message.Content)
		}
	}
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	acc := openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if acc.Choices[0].Message.Content != "Hello from Gemini on Vertex." {
		t.Fatalf("stream content %q", acc.Choices[0].Message.Content)
	}
	// Three calls, one token: the token is cached until it expires.
	if n := up.tokensIssed.Load(); n != 1 {
		t.Fatalf("tokens fetched = %d, want 1", n)
	}
	p.Model = "gemini-pro"
	if _, err := client.Chat.Completions.New(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	p.Model = "glm"
	if _, err := client.Chat.Completions.New(context.Background(), p); err != nil {
		t.Fatal(err)
	}

	up.mu.Lock()
	defer up.mu.Unlock()
	want := []vertexChat{
		{"/v1/projects/my-proj/locations/europe-west4/endpoints/openapi/chat/completions", "Bearer ya29.fake-1", "google/gemini-2.5-flash"},
		{"/v1/projects/my-proj/locations/europe-west4/endpoints/openapi/chat/completions", "Bearer ya29.fake-1", "google/gemini-2.5-flash"},
		{"/v1/projects/my-proj/locations/europe-west4/endpoints/openapi/chat/completions", "Bearer ya29.fake-1", "google/gemini-2.5-flash"},
		// project from the key's project_id, default location.
		{"/v1/projects/proj-from-key/locations/us-central1/endpoints/openapi/chat/completions", "Bearer ya29.fake-2", "google/gemini-2.5-pro"},
		// partner model ids are sent as written; credentials from
		// GOOGLE_APPLICATION_CREDENTIALS.
		{"/v1/projects/my-proj/locations/global/endpoints/openapi/chat/completions", "Bearer ya29.fake-3", "zai-org/glm-5-maas"},
	}
	if fmt.Sprint(up.chats) != fmt.Sprint(want) {
		t.Fatalf("chats\n got %v\nwant %v", up.chats, want)
	}
}

func TestVertexBadCredentials(t *testing.T) {
	up := newFakeVertex(t)
	var sa map[string]string
	_ = json.Unmarshal(up.serviceAccountJSON(), &sa)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(other)
	sa["private_key"] = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	wrongKey, _ := json.Marshal(sa)

	bad := dep(0, "bad-key", "vertex_ai/gemini-2.5-flash", up.root(), "")
	bad.Params = map[string]any{"vertex_project": "p", "vertex_credentials": string(wrongKey)}
	missing := dep(1, "no-file", "vertex_ai/gemini-2.5-flash", up.root(), "")
	missing.Params = map[string]any{"vertex_project": "p", "vertex_credentials": "/nonexistent/sa.json"}
	gw := startGateway(t, testConfig(bad, missing))

	resp := rawPost(t, gw, "/v1/chat/completions", `{"model":"bad-key","messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if resp.StatusCode != 503 || !strings.Contains(resp.Body, "invalid_grant: bad signature") || strings.Contains(resp.Body, "PRIVATE KEY") {
		t.Fatalf("rejected key: %d %s", resp.StatusCode, resp.Body)
	}
	resp = rawPost(t, gw, "/v1/chat/completions", `{"model":"no-file","messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if resp.StatusCode != 503 || !strings.Contains(resp.Body, "/nonexistent/sa.json") {
		t.Fatalf("missing file: %d %s", resp.StatusCode, resp.Body)
	}
}

// claude answers like Claude on Vertex AI (Anthropic's Messages format;
// model in the URL, anthropic_version in the body).
func (f *fakeVertex) claude(w http.ResponseWriter, r *http.Request, body []byte) {
	var req map[string]any
	_ = json.Unmarshal(body, &req)
	f.mu.Lock()
	f.claudeBodies = append(f.claudeBodies, req)
	f.mu.Unlock()
	if _, has := req["model"]; has || req["anthropic_version"] != "vertex-2023-10-16" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		fmt.Fprint(w, `{"type":"error","error":{"type":"invalid_request_error","message":"anthropic_version: vertex-2023-10-16 required; model: Extra inputs are not permitted"}}`)
		return
	}
	if strings.HasSuffix(r.URL.Path, ":streamRawPredict") {
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		for _, ev := range []string{
			"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_vrtx_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\n",
			"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
			"event: ping\ndata: {\"type\":\"ping\"}\n\n",
			"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello from \"}}\n\n",
			"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Claude on Vertex.\"}}\n\n",
			"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
			"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":6}}\n\n",
			"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
		} {
			_, _ = io.WriteString(w, ev)
			fl.Flush()
		}
		return
	}
	if !strings.HasSuffix(r.URL.Path, ":rawPredict") {
		w.WriteHeader(404)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"id":"msg_vrtx_2","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Hello from Claude on Vertex."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":9,"output_tokens":6}}`)
}

func TestVertexClaudeThroughRawPredict(t *testing.T) {
	up := newFakeVertex(t)
	d := dep(0, "claude", "vertex_ai/claude-sonnet-4-5@20250929", up.root(), "")
	d.Params = map[string]any{"vertex_project": "my-proj", "vertex_location": "us-east5", "vertex_credentials": string(up.serviceAccountJSON())}
	gw := startGateway(t, testConfig(d))
	client := sdk(gw, testMasterKey)
	p := userMsg("hi")
	p.Model = "claude"
	p.MaxTokens = openai.Int(100)
	resp, err := client.Chat.Completions.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != "Hello from Claude on Vertex." || resp.Choices[0].FinishReason != "stop" || resp.Usage.CompletionTokens != 6 {
		t.Fatalf("answer %+v", resp)
	}
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	acc := openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if acc.Choices[0].Message.Content != "Hello from Claude on Vertex." {
		t.Fatalf("stream content %q", acc.Choices[0].Message.Content)
	}
	up.mu.Lock()
	defer up.mu.Unlock()
	base := "/v1/projects/my-proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929"
	if len(up.chats) != 2 || up.chats[0].Path != base+":rawPredict" || up.chats[1].Path != base+":streamRawPredict" ||
		up.chats[0].Auth != "Bearer ya29.fake-1" {
		t.Fatalf("chats %v", up.chats)
	}
	if b := up.claudeBodies[0]; b["max_tokens"] != 100.0 || jsonPath(b, "messages", 0, "role") != "user" {
		t.Fatalf("body %v", b)
	}
}

var jsonPath = providertest.JSONPath
