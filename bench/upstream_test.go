package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// startUpstream serves a fake upstream on a free port for the test's life.
func startUpstream(t *testing.T, o UpstreamOptions) (*Upstream, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := NewUpstream(o)
	done := make(chan error, 1)
	go func() { done <- u.Serve(ln) }()
	t.Cleanup(func() {
		_ = u.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("upstream did not stop")
		}
	})
	return u, ln.Addr().String()
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func openaiClient(addr string) openai.Client {
	return openai.NewClient(
		option.WithBaseURL("http://"+addr+"/v1"),
		option.WithAPIKey("sk-fake"),
		option.WithMaxRetries(0),
	)
}

func TestUpstreamOpenAINonStream(t *testing.T) {
	_, addr := startUpstream(t, UpstreamOptions{Chunks: 4, ChunkBytes: 5})
	c := openaiClient(addr)
	resp, err := c.Chat.Completions.New(testCtx(t), openai.ChatCompletionNewParams{
		Model:    "gpt-bench",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Object != "chat.completion" || resp.Model != "gpt-bench" || len(resp.Choices) != 1 {
		t.Fatalf("unexpected response %+v", resp)
	}
	ch := resp.Choices[0]
	if len(ch.Message.Content) != 20 || ch.FinishReason != "stop" || ch.Message.Role != "assistant" {
		t.Errorf("choice = %+v", ch)
	}
	if resp.Usage.CompletionTokens != 4 || resp.Usage.TotalTokens != resp.Usage.PromptTokens+4 {
		t.Errorf("usage = %+v", resp.Usage)
	}
}

func TestUpstreamOpenAIStream(t *testing.T) {
	u, addr := startUpstream(t, UpstreamOptions{Chunks: 6, ChunkBytes: 7, TTFT: 5 * time.Millisecond, Gap: time.Millisecond})
	c := openaiClient(addr)
	for _, includeUsage := range []bool{false, true} {
		params := openai.ChatCompletionNewParams{
			Model:    "gpt-bench",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
		}
		if includeUsage {
			params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		}
		start := time.Now()
		stream := c.Chat.Completions.NewStreaming(testCtx(t), params)
		var acc openai.ChatCompletionAccumulator
		chunks, usageChunks := 0, 0
		for stream.Next() {
			ch := stream.Current()
			if chunks == 0 && time.Since(start) < 5*time.Millisecond {
				t.Errorf("first chunk after %s, before the 5ms TTFT", time.Since(start))
			}
			if !acc.AddChunk(ch) {
				t.Fatalf("accumulator rejected chunk %d", chunks)
			}
			if ch.Object != "chat.completion.chunk" {
				t.Errorf("object = %q", ch.Object)
			}
			if len(ch.Choices) == 0 {
				usageChunks++
			}
			chunks++
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		want := 6 + 1 // content chunks + finish chunk
		if includeUsage {
			want++
		}
		if chunks != want {
			t.Errorf("include_usage=%v: %d chunks, want %d", includeUsage, chunks, want)
		}
		if got := acc.Choices[0].Message.Content; len(got) != 42 {
			t.Errorf("accumulated content %q, want 42 bytes", got)
		}
		if acc.Choices[0].FinishReason != "stop" {
			t.Errorf("finish reason %q", acc.Choices[0].FinishReason)
		}
		if includeUsage && (usageChunks != 1 || acc.Usage.CompletionTokens != 6) {
			t.Errorf("usage chunks %d, usage %+v", usageChunks, acc.Usage)
		}
		if !includeUsage && usageChunks != 0 {
			t.Errorf("usage chunk sent without include_usage")
		}
	}
	if st := u.Stats(); st.Streams != 2 || st.Requests != 2 {
		t.Errorf("stats = %+v", st)
	}
}

func TestUpstreamInjectedErrors(t *testing.T) {
	u, addr := startUpstream(t, UpstreamOptions{ErrorRate: 1, ErrorStatus: 429})
	c := openaiClient(addr)
	_, err := c.Chat.Completions.New(testCtx(t), openai.ChatCompletionNewParams{
		Model:    "m",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Code != "bench_injected" || apiErr.Type != "rate_limit_exceeded" {
		t.Fatalf("err = %v", err)
	}
	// Anthropic-shaped error on /v1/messages.
	resp, err := http.Post("http://"+addr+"/v1/messages", "application/json", strings.NewReader(`{"model":"c"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Type  string `json:"type"`
		Error struct{ Type, Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 429 || body.Type != "error" || body.Error.Type != "rate_limit_error" || body.Error.Message == "" {
		t.Errorf("anthropic error: status %d, %+v, %v", resp.StatusCode, body, err)
	}
	if st := u.Stats(); st.Injected != 2 {
		t.Errorf("injected = %d", st.Injected)
	}
}

// sseEvent is one parsed server-sent event.
type sseEv struct{ name, data string }

// readSSE is a minimal SSE reader: "event:" and "data:" lines, blank-line
// terminated.
func readSSE(t *testing.T, r *bufio.Reader) []sseEv {
	t.Helper()
	var out []sseEv
	var cur sseEv
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if cur != (sseEv{}) {
				t.Errorf("unterminated event %+v", cur)
			}
			return out
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			out = append(out, cur)
			cur = sseEv{}
		case strings.HasPrefix(line, "event: "):
			cur.name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			cur.data = line[len("data: "):]
		default:
			t.Errorf("unexpected SSE line %q", line)
		}
	}
}

func TestUpstreamAnthropicStream(t *testing.T) {
	_, addr := startUpstream(t, UpstreamOptions{Chunks: 3, ChunkBytes: 4})
	req, _ := http.NewRequestWithContext(testCtx(t), "POST", "http://"+addr+"/v1/messages",
		strings.NewReader(`{"model":"claude-bench","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("anthropic-version", "2023-06-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("content type %q", ct)
	}
	evs := readSSE(t, bufio.NewReader(resp.Body))
	want := []string{"message_start", "content_block_start", "ping",
		"content_block_delta", "content_block_delta", "content_block_delta",
		"content_block_stop", "message_delta", "message_stop"}
	if len(evs) != len(want) {
		t.Fatalf("got %d events %+v, want %v", len(evs), evs, want)
	}
	var text strings.Builder
	for i, ev := range evs {
		if ev.name != want[i] {
			t.Errorf("event %d = %q, want %q", i, ev.name, want[i])
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(ev.data), &m); err != nil {
			t.Fatalf("event %d: invalid JSON %q: %v", i, ev.data, err)
		}
		if m["type"] != ev.name {
			t.Errorf("event %d: type %v, event name %q", i, m["type"], ev.name)
		}
		switch ev.name {
		case "message_start":
			msg := m["message"].(map[string]any)
			if msg["model"] != "claude-bench" || msg["role"] != "assistant" {
				t.Errorf("message_start = %v", msg)
			}
		case "content_block_delta":
			d := m["delta"].(map[string]any)
			if d["type"] != "text_delta" {
				t.Errorf("delta = %v", d)
			}
			text.WriteString(d["text"].(string))
		case "message_delta":
			if m["delta"].(map[string]any)["stop_reason"] != "end_turn" || m["usage"].(map[string]any)["output_tokens"] != 3.0 {
				t.Errorf("message_delta = %v", m)
			}
		}
	}
	if text.Len() != 12 {
		t.Errorf("text %q, want 12 bytes", text.String())
	}

	// Non-streaming Messages response.
	resp2, err := http.Post("http://"+addr+"/v1/messages", "application/json", strings.NewReader(`{"model":"claude-bench"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	var msg struct {
		Content []struct{ Type, Text string }
		Usage   struct {
			OutputTokens int `json:"output_tokens"`
		}
	}
	if err := json.NewDecoder(resp2.Body).Decode(&msg); err != nil || len(msg.Content) != 1 || len(msg.Content[0].Text) != 12 || msg.Usage.OutputTokens != 3 {
		t.Errorf("message = %+v, %v", msg, err)
	}
}

func TestUpstreamCountsStreamsClosedEarly(t *testing.T) {
	u, addr := startUpstream(t, UpstreamOptions{Chunks: 200, Gap: 5 * time.Millisecond})
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"model":"m","stream":true}`
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = conn.Write([]byte("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body))
	buf := make([]byte, 512)
	if _, err := conn.Read(buf); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for u.Stats().ClosedEarly == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("closed-early stream not counted: %+v", u.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestUpstreamRequestHandling(t *testing.T) {
	u, addr := startUpstream(t, UpstreamOptions{Chunks: 2})
	post := func(path, body string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Post("http://"+addr+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	// Models are echoed, and cached bodies do not alias request buffers.
	big := strings.Repeat("x", 200<<10)
	for _, model := range []string{"m1", "m2", "m1", "m2"} {
		code, m := post("/chat/completions", `{"model":"`+model+`","messages":[{"role":"user","content":"`+big+`"}]}`)
		if code != 200 || m["model"] != model {
			t.Fatalf("model %s: status %d, body model %v", model, code, m["model"])
		}
	}
	if code, _ := post("/v1/chat/completions", `{"model":`); code != 400 {
		t.Errorf("invalid JSON: status %d", code)
	}
	if code, _ := post("/v1/embeddings", `{}`); code != 404 {
		t.Errorf("unknown path: status %d", code)
	}
	if st := u.Stats(); st.Requests != 6 || st.NotFound != 2 {
		t.Errorf("stats %+v", st)
	}
}
