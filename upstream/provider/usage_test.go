package provider

import (
	"bytes"
	"testing"

	"github.com/llmedge/llmedge/internal/allocs"
	"github.com/llmedge/llmedge/sse"
)

// Counting usage off each relayed event allocates nothing.
func TestUsageObserveEventAllocs(t *testing.T) {
	delta := sse.Event{Name: []byte("response.output_text.delta"), Data: []byte(`{"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_1","output_index":0,"content_index":0,"delta":" world","logprobs":[]}`)}
	chunk := sse.Event{Data: benchChunk}
	var u Usage
	allocs.None(t, "observing a chat chunk's usage", 1000, func() { u.ObserveEvent(&chunk) })
	allocs.None(t, "observing a Responses delta's usage", 1000, func() { u.ObserveEvent(&delta) })
}

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
		u.ObserveBody([]byte(tc.body))
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
		u.ObserveBody([]byte(tc.body))
		if u.PromptTokens != tc.p || u.CacheReadTokens != tc.read || u.CacheWriteTokens != tc.write || u.ReasoningTokens != tc.r {
			t.Errorf("%s: got %+v, want prompt %d cache read %d write %d reasoning %d", tc.name, u, tc.p, tc.read, tc.write, tc.r)
		}
	}
}

func TestUsageObserveEvent(t *testing.T) {
	var u Usage
	ev := sse.Event{Name: []byte("response.output_text.delta"), Data: []byte(`{"type":"response.output_text.delta","usage":{"input_tokens":1}}`)}
	u.ObserveEvent(&ev)
	if u.Reported {
		t.Fatal("a delta event was read for usage")
	}
	ev = sse.Event{Name: []byte("response.completed"), Data: []byte(`{"type":"response.completed","response":{"usage":{"input_tokens":36,"output_tokens":87}}}`)}
	u.ObserveEvent(&ev)
	if u != (Usage{PromptTokens: 36, CompletionTokens: 87, Reported: true}) {
		t.Fatalf("completed: %+v", u)
	}
	u = Usage{}
	ev = sse.Event{Data: []byte(`{"object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}}`)}
	u.ObserveEvent(&ev)
	if u != (Usage{PromptTokens: 4, CompletionTokens: 2, Reported: true}) {
		t.Fatalf("chunk: %+v", u)
	}
	var nilU *Usage
	nilU.ObserveEvent(&ev) // must not panic
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
		u.ObserveBody(b)
		if u.PromptTokens < 0 || u.CompletionTokens < 0 {
			t.Fatalf("negative usage %+v", u)
		}
		if bytes.Contains(b, usageKey) || bytes.IndexByte(b, '"') >= 0 {
			return
		}
		whole := append(append([]byte(nil), b...), `,"usage":{"prompt_tokens":7,"completion_tokens":9}}`...)
		u = Usage{}
		u.ObserveBody(whole)
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
			u.ObserveEvent(&chunk)
		}
	})
	b.Run("responses-delta", func(b *testing.B) {
		b.ReportAllocs()
		var u Usage
		for i := 0; i < b.N; i++ {
			u.ObserveEvent(&delta)
		}
	})
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

func TestNoteAnthropicKeepsMax(t *testing.T) {
	var u Usage
	u.NoteAnthropic([]byte(`{"type":"message_start","message":{"id":"m","usage":{"input_tokens":30,"output_tokens":1}}}`))
	u.NoteAnthropic([]byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"usage"}}`))
	u.NoteAnthropic([]byte(`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":12}}`))
	if u.PromptTokens != 30 || u.CompletionTokens != 12 || !u.Reported {
		t.Fatalf("%+v", u)
	}
}

var benchAnswer = []byte(`{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1741569952,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"message":{"role":"assistant","content":"The weather in Paris today is mild: 18 degrees, light wind from the west, and a small chance of rain in the evening.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":28,"total_tokens":47,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_44709d6fcb"}`)

// BenchmarkUsageObserveBody: the usage read of a complete chat answer,
// once per non-stream call.
func BenchmarkUsageObserveBody(b *testing.B) {
	b.ReportAllocs()
	var u Usage
	for b.Loop() {
		u.ObserveBody(benchAnswer)
	}
	if u.CompletionTokens != 28 {
		b.Fatalf("usage %+v", u)
	}
}
