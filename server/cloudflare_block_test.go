package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/llmedge/llmedge/upstream/provider/providertest"
)

// An upstream behind Cloudflare that Cloudflare turns away answers
// with an HTML page, not the API's error: a retryable 503 naming
// Cloudflare for the client, counted for retries and fallbacks.

// cloudflarePage answers like Cloudflare's edge: status, HTML, server:
// cloudflare and a cf-ray id (headers false: the page alone).
func cloudflarePage(status int, headers bool, page string) providertest.Handler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		if headers {
			w.Header().Set("Server", "cloudflare")
			w.Header().Set("Cf-Ray", "8f2a1b3c4d5e6f70-AMS")
		}
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(status)
		fmt.Fprint(w, page)
	}
}

const (
	cfError1200 = `<!DOCTYPE html><html><head><title>api.example.com | 1200: Too many requests queued</title></head>` +
		`<body><div id="cf-error-details"><h1>Error 1200</h1><p>This website has been temporarily rate limited.</p>` +
		`<p>Cloudflare Ray ID: <strong>8f2a1b3c4d5e6f70</strong></p><p>Performance &amp; security by Cloudflare</p></div></body></html>`
	cfChallenge = `<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head><body>` +
		`<noscript>Enable JavaScript and cookies to continue</noscript>` +
		`<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1?ray=8f2a1b3c4d5e6f70"></script></body></html>`
)

func TestCloudflareBlockIsRetried(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(providertest.Sequence(cloudflarePage(403, true, cfChallenge), providertest.OpenAIAnswer("Hello from the fake upstream.")))
	gw := startGateway(t, relConfig(map[string]any{"num_retries": int64(2)}, dep(0, "m", "openai/m", up.base(), "k")))
	client := sdk(gw, testMasterKey)
	p := userMsg("x")
	p.Model = "m"
	var hdr *http.Response
	comp, err := client.Chat.Completions.New(context.Background(), p, option.WithResponseInto(&hdr))
	if err != nil {
		t.Fatal(err)
	}
	if comp.Choices[0].Message.Content != "Hello from the fake upstream." || len(up.requests()) != 2 || hdr.Header.Get("X-Llmedge-Attempts") != "2" {
		t.Fatalf("content %q after %d calls (attempts %q)", comp.Choices[0].Message.Content, len(up.requests()), hdr.Header.Get("X-Llmedge-Attempts"))
	}
}

// Retried like any 503 (a 403 is not), then the fallback answers.
func TestCloudflareBlockFallsBack(t *testing.T) {
	bad := newFakeOpenAI(t)
	bad.setHandler(cloudflarePage(403, true, cfChallenge))
	good := newFakeOpenAI(t)
	cfg := relConfig(map[string]any{"num_retries": int64(1), "fallbacks": []any{map[string]any{"m": []any{"backup"}}}},
		dep(0, "m", "openai/m", bad.base(), "k"), dep(1, "backup", "openai/backup-model", good.base(), "k"))
	gw := startGateway(t, cfg)
	r := rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey)
	if r.StatusCode != 200 || len(good.requests()) != 1 || len(bad.requests()) != 2 {
		t.Fatalf("%d %s (blocked deployment %d calls, fallback %d)", r.StatusCode, r.Body, len(bad.requests()), len(good.requests()))
	}
}

func TestCloudflareBlockReported(t *testing.T) {
	for _, c := range []struct {
		name    string
		handler providertest.Handler
		what    string
	}{
		{"1200", cloudflarePage(503, true, cfError1200), "error 1200"},
		{"challenge", cloudflarePage(403, true, cfChallenge), "challenge page"},
		{"page without headers", cloudflarePage(403, false, cfError1200), "HTTP 403"},
	} {
		t.Run(c.name, func(t *testing.T) {
			up := newFakeOpenAI(t)
			up.setHandler(c.handler)
			gw := startGateway(t, relConfig(map[string]any{"num_retries": int64(0)}, dep(0, "m", "openai/m", up.base(), "k")))
			client := sdk(gw, testMasterKey)
			p := userMsg("x")
			p.Model = "m"
			_, err := client.Chat.Completions.New(context.Background(), p)
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v", err)
			}
			if apiErr.StatusCode != 503 || apiErr.Code != "cloudflare_block" || apiErr.Type != "service_unavailable_error" ||
				!strings.Contains(apiErr.Message, "blocked by Cloudflare") || !strings.Contains(apiErr.Message, c.what) {
				t.Fatalf("%d %s %s: %s", apiErr.StatusCode, apiErr.Type, apiErr.Code, apiErr.Message)
			}
			if strings.Contains(apiErr.RawJSON(), "<") {
				t.Fatalf("the page leaked into the error: %s", apiErr.RawJSON())
			}

			// Claude Code on /v1/messages gets it Anthropic-shaped.
			r := rawRequest(t, gw, "POST", "/v1/messages", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"x"}]}`, claudeHeaders()...)
			if r.StatusCode != 503 || !strings.HasPrefix(r.Body, `{"type":"error","error":{`) || !strings.Contains(r.Body, "blocked by Cloudflare") {
				t.Fatalf("/v1/messages: %d %s", r.StatusCode, r.Body)
			}
		})
	}
}

// An API behind Cloudflare sends its own JSON errors with Cloudflare's
// headers: those pass as the API's.
func TestJSONErrorBehindCloudflareIsTheAPIs(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(status(403, "Server: cloudflare", "Cf-Ray: 8f2a1b3c4d5e6f70-AMS"))
	gw := startGateway(t, relConfig(map[string]any{"num_retries": int64(0)}, dep(0, "m", "openai/m", up.base(), "k")))
	r := rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey)
	if r.StatusCode != 403 || !strings.Contains(r.Body, "injected 403") {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
}
