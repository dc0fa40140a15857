package upstream

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
)

// --- registry-level: usage of a streamed Responses call ---

type bufWriter struct{ bytes.Buffer }

func (w *bufWriter) Flush() error { return nil }

func fakeUpstream(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String() + "/v1"
}

func request(route Route, body string, stream bool) *ChatRequest {
	i := strings.Index(body, `"m"`)
	return &ChatRequest{Body: []byte(body), ModelStart: i, ModelEnd: i + 3, Model: []byte("m"), Stream: stream, Route: route, Cancel: &Cancel{}}
}

func TestResponsesStreamUsageCounted(t *testing.T) {
	var seen string
	base := fakeUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		seen = r.Method + " " + r.URL.Path + " " + string(body)
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"status\":\"in_progress\",\"usage\":null}}\n\n")
		fmt.Fprint(w, "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"delta\":\"hi\"}\n\n")
		fmt.Fprint(w, "event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":2,\"response\":{\"id\":\"resp_1\",\"status\":\"completed\",\"usage\":{\"input_tokens\":36,\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":87,\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":123}}}\n\n")
	})
	cfg := &config.Config{Deployments: []*config.Deployment{{ModelName: "m", ID: "m-0", Model: "openai/gpt-5-codex", Provider: "openai", UpstreamModel: "gpt-5-codex", APIBase: base, APIKey: "k"}}}
	reg, err := NewRegistry(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := reg.Lookup([]byte("m"))
	out := AcquireResponse()
	defer ReleaseResponse(out)
	if err := reg.Chat(g, request(RouteResponses, `{"model":"m","input":"x","stream":true}`, true), out); err != nil {
		t.Fatal(err)
	}
	var w bufWriter
	if err := out.Stream.Relay(&w); err != nil {
		t.Fatal(err)
	}
	if seen != `POST /v1/responses {"model":"gpt-5-codex","input":"x","stream":true}` {
		t.Fatalf("upstream saw %q", seen)
	}
	if out.Usage != (Usage{PromptTokens: 36, CompletionTokens: 87, Reported: true}) {
		t.Fatalf("usage %+v", out.Usage)
	}
	if strings.Contains(w.String(), "[DONE]") || !strings.HasSuffix(w.String(), "\"total_tokens\":123}}}\n\n") {
		t.Fatalf("relayed %q", w.String())
	}
}

// Chat streams are read for usage only when the client asked for it
// (stream_options.include_usage): otherwise OpenAI sends none and the
// relay scans nothing.
func TestChatStreamUsageWhenAsked(t *testing.T) {
	base := fakeUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}],\"usage\":null}\n\n")
		fmt.Fprint(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":1,\"total_tokens\":10}}\n\ndata: [DONE]\n\n")
	})
	cfg := &config.Config{Deployments: []*config.Deployment{{ModelName: "m", ID: "m-0", Model: "openai/gpt-4o", Provider: "openai", UpstreamModel: "gpt-4o", APIBase: base, APIKey: "k"}}}
	reg, err := NewRegistry(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, asked := range []bool{true, false} {
		out := AcquireResponse()
		req := request(RouteChat, `{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true}}`, true)
		req.IncludeUsage = asked
		if err := reg.Chat(reg.Lookup([]byte("m")), req, out); err != nil {
			t.Fatal(err)
		}
		var w bufWriter
		if err := out.Stream.Relay(&w); err != nil {
			t.Fatal(err)
		}
		want := Usage{}
		if asked {
			want = Usage{PromptTokens: 9, CompletionTokens: 1, Reported: true}
		}
		if out.Usage != want || !strings.HasSuffix(w.String(), "data: [DONE]\n\n") {
			t.Fatalf("asked=%v: usage %+v", asked, out.Usage)
		}
		ReleaseResponse(out)
	}
}
