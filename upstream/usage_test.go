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
	"github.com/llmedge/llmedge/sse"
)

func TestUsageObserveBody(t *testing.T) {
	cases := []struct {
		name     string
		body     string
		p, c     int
		reported bool
	}{
		{"chat", `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}`, 19, 10, true},
		{"embeddings", `{"object":"list","data":[{"object":"embedding","embedding":[0.1,-0.2],"index":0}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}`, 8, 0, true},
		{"responses", `{"id":"resp_1","object":"response","output":[{"type":"message","content":[{"type":"output_text","text":"a \"usage\": {\"input_tokens\": 999} b"}]}],"usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":0},"output_tokens":87,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":123},"user":null,"metadata":{}}`, 36, 87, true},
		{"anthropic cache tokens are prompt", `{"id":"msg_1","type":"message","usage":{"input_tokens":10,"cache_creation_input_tokens":3,"cache_read_input_tokens":4,"output_tokens":2}}`, 17, 2, true},
		{"spaces", "{\"usage\" :\n {\n \"completion_tokens\" : 3 ,\"prompt_tokens\":2}}", 2, 3, true},
		{"usage null", `{"choices":[{"delta":{"content":"x"}}],"usage":null}`, 0, 0, false},
		{"no usage", `{"id":"x","choices":[]}`, 0, 0, false},
		{"nested later, real one earlier", `{"usage":{"prompt_tokens":5,"completion_tokens":6},"metadata":{"usage":"n/a"}}`, 5, 6, true},
		{"float tokens skipped", `{"usage":{"prompt_tokens":1.5,"completion_tokens":2}}`, 0, 2, true},
		{"truncated", `{"usage":{"prompt_tokens":5,"completion_tok`, 0, 0, false},
	}
	for _, tc := range cases {
		var u Usage
		u.observeBody([]byte(tc.body))
		if u.PromptTokens != tc.p || u.CompletionTokens != tc.c || u.Reported != tc.reported {
			t.Errorf("%s: got %+v, want %d/%d reported=%v", tc.name, u, tc.p, tc.c, tc.reported)
		}
	}
}

// Cached and reasoning tokens, which price a call: OpenAI's details
// (cached inside prompt_tokens), the Responses API's, Anthropic's
// top-level cache counts (beside input_tokens), and the translated
// chat answer carrying both shapes (counted once).
func TestUsageCachedAndReasoningTokens(t *testing.T) {
	for _, tc := range []struct {
		name, body        string
		p, read, write, r int
	}{
		{"openai", `{"usage":{"prompt_tokens":1000,"completion_tokens":100,"prompt_tokens_details":{"cached_tokens":400},"completion_tokens_details":{"reasoning_tokens":60}}}`, 1000, 400, 0, 60},
		{"responses", `{"usage":{"input_tokens":50,"input_tokens_details":{"cached_tokens":20},"output_tokens":9,"output_tokens_details":{"reasoning_tokens":4}}}`, 50, 20, 0, 4},
		{"anthropic", `{"usage":{"input_tokens":10,"cache_creation_input_tokens":3,"cache_read_input_tokens":4,"output_tokens":2}}`, 17, 4, 3, 0},
		{"translated anthropic", `{"usage":{"prompt_tokens":17,"completion_tokens":2,"total_tokens":19,"prompt_tokens_details":{"cached_tokens":4,"cache_creation_tokens":3},"cache_creation_input_tokens":3,"cache_read_input_tokens":4}}`, 17, 4, 3, 0},
	} {
		var u Usage
		u.observeBody([]byte(tc.body))
		if u.PromptTokens != tc.p || u.CacheReadTokens != tc.read || u.CacheWriteTokens != tc.write || u.ReasoningTokens != tc.r {
			t.Errorf("%s: got %+v, want prompt %d cache read %d write %d reasoning %d", tc.name, u, tc.p, tc.read, tc.write, tc.r)
		}
	}
}

func TestUsageObserveEvent(t *testing.T) {
	var u Usage
	ev := sse.Event{Name: []byte("response.output_text.delta"), Data: []byte(`{"type":"response.output_text.delta","usage":{"input_tokens":1}}`)}
	u.observeEvent(&ev)
	if u.Reported {
		t.Fatal("a delta event was read for usage")
	}
	ev = sse.Event{Name: []byte("response.completed"), Data: []byte(`{"type":"response.completed","response":{"usage":{"input_tokens":36,"output_tokens":87}}}`)}
	u.observeEvent(&ev)
	if u != (Usage{PromptTokens: 36, CompletionTokens: 87, Reported: true}) {
		t.Fatalf("completed: %+v", u)
	}
	u = Usage{}
	ev = sse.Event{Data: []byte(`{"object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}}`)}
	u.observeEvent(&ev)
	if u != (Usage{PromptTokens: 4, CompletionTokens: 2, Reported: true}) {
		t.Fatalf("chunk: %+v", u)
	}
	var nilU *Usage
	nilU.observeEvent(&ev) // must not panic
}

// FuzzUsage: the usage reader never panics or reads out of range, never
// reports negative counts, and finds a well-formed usage object appended
// to any prefix that does not itself open a string or hold "usage".
// (Correctness on real answers is TestUsageObserveBody's job.)
func FuzzUsage(f *testing.F) {
	for _, s := range []string{
		`{"usage":{"prompt_tokens":1,"completion_tokens":2}}`,
		`{"usage":null}`,
		`{"a":"\"usage\":{","usage":{"input_tokens":3,"output_tokens":4,"x":[{"y":"}"}]}}`,
		`"usage":{`,
		`{"usage":{"prompt_tokens":99999999999999999999}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var u Usage
		u.observeBody(b)
		if u.PromptTokens < 0 || u.CompletionTokens < 0 {
			t.Fatalf("negative usage %+v", u)
		}
		if bytes.Contains(b, usageKey) || bytes.IndexByte(b, '"') >= 0 {
			return
		}
		whole := append(append([]byte(nil), b...), `,"usage":{"prompt_tokens":7,"completion_tokens":9}}`...)
		u = Usage{}
		u.observeBody(whole)
		if u != (Usage{PromptTokens: 7, CompletionTokens: 9, Reported: true}) {
			t.Fatalf("usage after %q not found: %+v", b, u)
		}
	})
}

var benchChunk = []byte(`{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1-2025-04-14","service_tier":"default","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":" world"},"logprobs":null,"finish_reason":null}],"usage":null}`)

// BenchmarkUsageObserveEvent: the per-event cost the relay pays.
func BenchmarkUsageObserveEvent(b *testing.B) {
	delta := sse.Event{Name: []byte("response.output_text.delta"), Data: []byte(`{"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_1","output_index":0,"content_index":0,"delta":" world","logprobs":[]}`)}
	chunk := sse.Event{Data: benchChunk}
	b.Run("chat-chunk", func(b *testing.B) {
		b.ReportAllocs()
		var u Usage
		for i := 0; i < b.N; i++ {
			u.observeEvent(&chunk)
		}
	})
	b.Run("responses-delta", func(b *testing.B) {
		b.ReportAllocs()
		var u Usage
		for i := 0; i < b.N; i++ {
			u.observeEvent(&delta)
		}
	})
}

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

func TestLastIndexUsage(t *testing.T) {
	for _, n := range []int{0, 1, 5, 1017, 1018, 1019, 1020, 1023, 1024, 1025, 3000} {
		for _, tail := range []int{0, 1, 3, 1000, 1030} {
			b := bytes.Repeat([]byte("x"), n)
			b = append(b, usageKey...)
			b = append(b, bytes.Repeat([]byte("y"), tail)...)
			if got := lastIndexUsage(b); got != n {
				t.Fatalf("n=%d tail=%d: %d", n, tail, got)
			}
			if got := lastIndexUsage(b[:n+3]); got != -1 {
				t.Fatalf("partial key found at %d", got)
			}
		}
	}
	b := []byte(`"usage" "usage" "usage"`)
	if got := lastIndexUsage(b); got != bytes.LastIndex(b, usageKey) {
		t.Fatalf("got %d", got)
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
