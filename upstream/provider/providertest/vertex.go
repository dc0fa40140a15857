package providertest

import (
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
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Vertex is Google's OAuth token endpoint plus Vertex AI's
// OpenAI-compatible chat endpoint and Claude's rawPredict and
// streamRawPredict (Anthropic's format), on one loopback server; its
// URL is the deployments' api_base.
//
// POST /token follows the service-account flow (RFC 7523 JWT bearer
// grant as Google documents it): the form's assertion must be an RS256
// JWT signed by the test key, issued by the service account, for the
// token_uri audience and the cloud-platform scope. It answers an access
// token. POST /v1/projects/{p}/locations/{l}/endpoints/openapi/chat/completions
// requires that token as a bearer and answers OpenAI's format.
type Vertex struct {
	*Upstream
	key    *rsa.PrivateKey
	email  string
	tokens atomic.Int32
	mu     sync.Mutex
	chats  []VertexChat
	// claudeBodies are the bodies of Claude (rawPredict) calls.
	claudeBodies []map[string]any
	// claudeH, when set, answers the Claude calls the checks pass.
	claudeH Handler
}

// SetClaude makes h answer the Claude (rawPredict, streamRawPredict)
// calls that carry Vertex's anthropic_version and no model.
// count-tokens:rawPredict (model in the body) always answers 42.
func (f *Vertex) SetClaude(h Handler) {
	f.mu.Lock()
	f.claudeH = h
	f.mu.Unlock()
}

// VertexChat is a model call the fake received: its path, Authorization
// header and body model.
type VertexChat struct {
	Path, Auth, Model string
}

// NewVertex starts a fake Vertex AI until the test ends.
func NewVertex(t testing.TB) *Vertex {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &Vertex{Upstream: NewUpstream(t, nil), key: key, email: "llmedge-test@my-proj.iam.gserviceaccount.com"}
	f.SetHandler(f.route)
	return f
}

// Chats is every model call so far.
func (f *Vertex) Chats() []VertexChat {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]VertexChat(nil), f.chats...)
}

// ClaudeBodies are the bodies of the Claude (rawPredict) calls so far.
func (f *Vertex) ClaudeBodies() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.claudeBodies...)
}

// TokensIssued counts the access tokens the token endpoint gave out.
func (f *Vertex) TokensIssued() int { return int(f.tokens.Load()) }

// ServiceAccountJSON is a service-account key file whose token_uri is
// the fake's token endpoint.
func (f *Vertex) ServiceAccountJSON() []byte {
	der, _ := x509.MarshalPKCS8PrivateKey(f.key)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "proj-from-key", "private_key_id": "kid1",
		"private_key": string(pemKey), "client_email": f.email, "client_id": "123",
		"token_uri": f.URL() + "/token",
	})
	return b
}

func (f *Vertex) route(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.URL.Path == "/token" {
		f.token(w, r, body)
		return
	}
	auth := r.Header.Get("Authorization")
	f.mu.Lock()
	f.chats = append(f.chats, VertexChat{Path: r.URL.Path, Auth: auth, Model: RequestModel(body)})
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
	OpenAIAnswer("Hello from Gemini on Vertex.")(w, r, body)
}

func (f *Vertex) token(w http.ResponseWriter, r *http.Request, body []byte) {
	fail := func(msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":"invalid_grant","error_description":%q}`, msg)
	}
	// Upstream has read the body already.
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
	if claims["iss"] != f.email || claims["aud"] != f.URL()+"/token" || !strings.Contains(fmt.Sprint(claims["scope"]), "https://www.googleapis.com/auth/cloud-platform") {
		fail(fmt.Sprintf("claims %v", claims))
		return
	}
	n := f.tokens.Add(1)
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

// claude answers like Claude on Vertex AI (Anthropic's Messages format;
// model in the URL, anthropic_version in the body).
func (f *Vertex) claude(w http.ResponseWriter, r *http.Request, body []byte) {
	var req map[string]any
	_ = json.Unmarshal(body, &req)
	f.mu.Lock()
	f.claudeBodies = append(f.claudeBodies, req)
	f.mu.Unlock()
	countTokens := strings.HasSuffix(r.URL.Path, "/count-tokens:rawPredict")
	if _, has := req["model"]; has != countTokens || req["anthropic_version"] != "vertex-2023-10-16" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		fmt.Fprint(w, `{"type":"error","error":{"type":"invalid_request_error","message":"anthropic_version: vertex-2023-10-16 required; model: Extra inputs are not permitted"}}`)
		return
	}
	if countTokens {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"input_tokens":42}`)
		return
	}
	var th struct {
		Thinking  json.RawMessage `json:"thinking"`
		MaxTokens int             `json:"max_tokens"`
	}
	_ = json.Unmarshal(body, &th)
	if msg := ThinkingError(th.Thinking, th.MaxTokens); msg != "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"type":"error","error":{"type":"invalid_request_error","message":%q}}`, msg)
		return
	}
	f.mu.Lock()
	h := f.claudeH
	f.mu.Unlock()
	if h != nil {
		h(w, r, body)
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
