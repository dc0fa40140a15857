package server

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
)

// A deployment's secrets are scrubbed by exact value whatever their
// shape: an api_key with no provider prefix (Azure's hex keys,
// self-hosted servers' tokens) and credential-like extra_headers values,
// wherever an upstream echoes them: a non-stream error body, an error
// event as a stream's first event, an error event mid-stream. Neither
// the client nor the log sees them.
func TestUnprefixedUpstreamKeyEchoedInErrorIsScrubbed(t *testing.T) {
	const key = "0123456789abcdef0123456789abcdef"
	const hdrKey = "q7Wm2xPz9Lk4Rt8Vn3Bc"
	const authHdr = "Token a8f3e1d29c4b7a6e5f0d"
	echo := "keys " + key + " / " + hdrKey + " / " + authHdr + " are not valid"
	errJSON := `{"error":{"message":"` + echo + `","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`
	chunk := `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}`
	cases := []struct {
		name   string
		stream bool
		handle func(w http.ResponseWriter)
	}{
		{"json error", false, func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			io.WriteString(w, errJSON)
		}},
		{"text error", false, func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(401)
			io.WriteString(w, echo)
		}},
		{"stream first event", true, func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: "+errJSON+"\n\ndata: [DONE]\n\n")
		}},
		{"stream mid-stream event", true, func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: "+chunk+"\n\ndata: "+errJSON+"\n\ndata: [DONE]\n\n")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := newFakeOpenAI(t)
			up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) { tc.handle(w) })
			d := dep(0, "m", "openai/m", up.base(), key)
			d.ExtraHeaders = []config.Header{{Name: "x-api-key", Value: hdrKey}, {Name: "Authorization", Value: authHdr}}
			gw, logs := startObserved(t, testConfig(d), Options{ObserveOptions: ObserveOptions{AccessLog: true}})
			body := `{"model":"m","messages":[{"role":"user","content":"x"}]}`
			if tc.stream {
				body = `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`
			}
			r := rawPost(t, gw, "/v1/chat/completions", body, testMasterKey)
			for _, s := range []string{key, hdrKey, "a8f3e1d29c4b7a6e5f0d"} {
				if strings.Contains(r.Body, s) {
					t.Errorf("client saw secret %q: %d %s", s, r.StatusCode, r.Body)
				}
				if strings.Contains(logs.String(), s) {
					t.Errorf("log has secret %q: %s", s, logs.String())
				}
			}
			if !strings.Contains(r.Body, "[REDACTED]") {
				t.Errorf("want the echo with [REDACTED]: %d %s", r.StatusCode, r.Body)
			}
		})
	}
}

// Upstream error text is scrubbed of every configured secret (not only
// the answering deployment's own key, which upstream/ scrubs) on every
// way it reaches a client: with keepalive pings the error becomes an SSE
// event, and /v1/messages answers Anthropic's error shape. Here an
// upstream echoes another deployment's key (Azure-style hex, which no
// key-shape rule catches).
func TestUpstreamErrorScrubbedOnEveryPath(t *testing.T) {
	const other = "0123456789abcdef0123456789abcdef"
	echo := func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		io.WriteString(w, `{"error":{"message":"key `+other+` is not valid here","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
	}
	t.Run("keepalive stream", func(t *testing.T) {
		up := newFakeOpenAI(t)
		up.setHandler(echo)
		cfg := testConfig(dep(0, "m", "openai/m", up.base(), "k"), dep(1, "o", "openai/o", up.base(), other))
		setSettings(cfg, "general_settings", map[string]any{"stream_keepalive_seconds": int64(5)})
		gw := startGateway(t, cfg)
		r := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`, testMasterKey)
		if strings.Contains(r.Body, other) || !strings.Contains(r.Body, "invalid_api_key") {
			t.Fatalf("keepalive error event: %d %q", r.StatusCode, r.Body)
		}
	})
	t.Run("messages", func(t *testing.T) {
		up := newFakeOpenAI(t)
		up.setHandler(anthropicFail(401, "authentication_error", "key "+other+" is not valid here"))
		gw := startGateway(t, testConfig(anthropicDep(0, "claude", up), dep(1, "o", "openai/o", up.base(), other)))
		r := rawPost(t, gw, "/v1/messages", `{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`, testMasterKey)
		if r.StatusCode != 401 || strings.Contains(r.Body, other) || !strings.Contains(r.Body, "authentication_error") {
			t.Fatalf("messages error: %d %q", r.StatusCode, r.Body)
		}
	})
}
