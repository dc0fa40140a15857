package anthropic

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/sse"
	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
)

func TestMessagesURL(t *testing.T) {
	for base, want := range map[string]string{
		"https://api.anthropic.com":                          "https://api.anthropic.com/v1/messages",
		"https://api.anthropic.com/":                         "https://api.anthropic.com/v1/messages",
		"https://api.anthropic.com/v1":                       "https://api.anthropic.com/v1/messages",
		"https://api.anthropic.com/v1/messages":              "https://api.anthropic.com/v1/messages",
		"https://api.supermemory.ai/v3/api.anthropic.com":    "https://api.supermemory.ai/v3/api.anthropic.com/v1/messages",
		"https://api.supermemory.ai/v3/api.anthropic.com/":   "https://api.supermemory.ai/v3/api.anthropic.com/v1/messages",
		"https://api.supermemory.ai/v3/api.anthropic.com/v1": "https://api.supermemory.ai/v3/api.anthropic.com/v1/messages",
	} {
		if got := MessagesURL(base); got != want {
			t.Errorf("MessagesURL(%q) = %q, want %q", base, got, want)
		}
	}
}

// streamFor builds a started translator over the given events.
func streamFor(t testing.TB, includeUsage bool) *anthropicStream {
	s := &anthropicStream{d: &provider.Endpoint{ID: "d"}, includeUsage: includeUsage}
	s.prefix = append(s.prefix, `data: {"id":"msg_1","object":"chat.completion.chunk","created":1,"model":"claude"`...)
	return s
}

func event(name, data string) sse.Event {
	return sse.Event{Name: []byte(name), Data: []byte(data)}
}

// Every chunk the translator writes must be one valid JSON object per
// data line.
func checkChunks(t *testing.T, out []byte) []map[string]any {
	t.Helper()
	var chunks []map[string]any
	for _, ev := range strings.Split(strings.TrimSuffix(string(out), "\n\n"), "\n\n") {
		if ev == "" || strings.HasPrefix(ev, ":") || ev == "data: [DONE]" {
			continue
		}
		data, ok := strings.CutPrefix(ev, "data: ")
		if !ok {
			t.Fatalf("not a data event: %q", ev)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			t.Fatalf("chunk is not JSON: %v: %s", err, data)
		}
		chunks = append(chunks, m)
	}
	return chunks
}

func TestTranslateEvents(t *testing.T) {
	s := streamFor(t, true)
	s.usage = anUsage{InputTokens: 5, CacheReadInputTokens: 2}
	var out []byte
	for _, ev := range []sse.Event{
		event("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`),
		event("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\"\\\u00e9\n"}}`),
		event("content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{}}}`),
		event("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}`),
		event("content_block_delta", `{"type":"content_block_delta","index":7,"delta":{"type":"input_json_delta","partial_json":"x"}}`),
		event("", `{"type":"ping"}`),
		event("message_delta", `{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":12}}`),
		event("message_stop", `{"type":"message_stop"}`),
	} {
		var done bool
		var err *provider.Error
		out, done, err = s.translate(out, ev)
		if err != nil {
			t.Fatal(err)
		}
		if done != (string(ev.Name) == "message_stop") {
			t.Fatalf("done = %v after %s", done, ev.Name)
		}
	}
	if !bytes.HasSuffix(out, sse.Done) {
		t.Fatal("no [DONE]")
	}
	chunks := checkChunks(t, out)
	if len(chunks) != 5 {
		t.Fatalf("got %d chunks: %s", len(chunks), out)
	}
	delta := func(i int) string { return mustJSON(chunks[i]["choices"].([]any)[0].(map[string]any)["delta"]) }
	if delta(0) != `{"content":"a\"\\é\n"}` {
		t.Errorf("text chunk %s", delta(0))
	}
	if delta(1) != `{"tool_calls":[{"function":{"arguments":"","name":"f"},"id":"toolu_1","index":0,"type":"function"}]}` {
		t.Errorf("tool start %s", delta(1))
	}
	if delta(2) != `{"tool_calls":[{"function":{"arguments":"{\"a\":"},"index":0}]}` {
		t.Errorf("tool args %s", delta(2))
	}
	if fr := chunks[3]["choices"].([]any)[0].(map[string]any)["finish_reason"]; fr != "tool_calls" {
		t.Errorf("finish %v", fr)
	}
	if u := mustJSON(chunks[4]["usage"]); u != `{"cache_creation_input_tokens":0,"cache_read_input_tokens":2,"completion_tokens":12,"prompt_tokens":7,"prompt_tokens_details":{"cache_creation_tokens":0,"cached_tokens":2},"total_tokens":19}` {
		t.Errorf("usage %s", u)
	}
	if !strings.Contains(string(out), ": ping\n\n") {
		t.Error("ping not kept as a comment")
	}
}

func TestTranslateRejectsBadLiteral(t *testing.T) {
	s := streamFor(t, false)
	// A raw control character makes the literal invalid: nothing copied.
	out, _, _ := s.translate(nil, event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\x01\"}}"))
	if len(out) != 0 {
		t.Errorf("invalid literal copied: %q", out)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

const textDeltaData = `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" the quick brown fox"}}`

func TestTextDeltaAllocatesNothing(t *testing.T) {
	s := streamFor(t, false)
	ev := event("content_block_delta", textDeltaData)
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(1000, func() { buf, _, _ = s.translate(buf[:0], ev) }); n != 0 {
		t.Errorf("%v allocations per text delta", n)
	}
}

// BenchmarkAnthropicTextDelta translates one text_delta event into an
// OpenAI chunk.
func BenchmarkAnthropicTextDelta(b *testing.B) {
	s := streamFor(b, false)
	ev := event("content_block_delta", textDeltaData)
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(len(textDeltaData)))
	b.ReportAllocs()
	for b.Loop() {
		buf, _, _ = s.translate(buf[:0], ev)
	}
}

// BenchmarkAnthropicRelayTextDelta is the relay's per-event work: scan
// one Anthropic SSE event off the wire, translate it, write the chunk.
func BenchmarkAnthropicRelayTextDelta(b *testing.B) {
	s := streamFor(b, false)
	block := "event: content_block_delta\ndata: " + textDeltaData + "\n\n"
	s.sc = sse.NewScanner(&providertest.LoopReader{Block: []byte(block)}, 0)
	b.SetBytes(int64(len(block)))
	b.ReportAllocs()
	for b.Loop() {
		ev, err := s.sc.Next()
		if err != nil {
			b.Fatal(err)
		}
		s.buf, _, _ = s.translate(s.buf[:0], ev)
		_, _ = io.Discard.Write(s.buf)
	}
}

func FuzzAnthropicEvent(f *testing.F) {
	for _, seed := range []string{
		textDeltaData,
		`{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}}`,
		`{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\\u0041\":"}}`,
		`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}`,
		`{"type":"message_stop"}`,
		`{"type":"error","error":{"type":"overloaded_error","message":"x"}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		s := streamFor(t, true)
		// Feed the event twice, the second time after a tool block, so
		// tool deltas find an index.
		for _, name := range []string{"", "content_block_start", "content_block_delta"} {
			out, _, _ := s.translate(nil, event(name, data))
			checkChunks(t, out)
		}
	})
}

func FuzzTranslateRequest(f *testing.F) {
	for _, seed := range []string{
		`{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"m","messages":[{"role":"system","content":[{"type":"text","text":"s"}]},{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"a","content":"r"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"f"}},"stop":["x"],"user":"u"}`,
		`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]}],"reasoning_effort":"high"}`,
	} {
		f.Add(seed)
	}
	d := &provider.Endpoint{ID: "d", Options: provider.Options{DropParams: true}}
	f.Fuzz(func(t *testing.T, body string) {
		out, err := TranslateRequest(d, []byte(body), "claude", false)
		if err != nil {
			if err.Status != 400 {
				t.Fatalf("status %d for bad input: %v", err.Status, err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid anthropic body %s", out)
		}
	})
}

func TestThinkingDroppedWhenToolLoopLostIt(t *testing.T) {
	d := &provider.Endpoint{ID: "d", Options: provider.Options{Thinking: []byte(`{"type":"enabled","budget_tokens":2048}`)}}
	loop := `{"model":"m","messages":[{"role":"user","content":"q"},
	  {"role":"assistant","content":null,"tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":"{}"}}]%s},
	  {"role":"tool","tool_call_id":"t1","content":"r"}]}`
	out, err := TranslateRequest(d, []byte(strings.Replace(loop, "%s", "", 1)), "c", false)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte(`"thinking"`)) {
		t.Errorf("thinking kept although the tool turn lost its thinking block: %s", out)
	}
	withBlocks := strings.Replace(loop, "%s", `,"thinking_blocks":[{"type":"thinking","thinking":"hm","signature":"sig"}]`, 1)
	out, err = TranslateRequest(d, []byte(withBlocks), "c", false)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(out, &m)
	if m["thinking"] == nil {
		t.Errorf("thinking dropped although blocks were sent back: %s", out)
	}
	asst := m["messages"].([]any)[1].(map[string]any)["content"].([]any)
	if mustJSON(asst[0]) != `{"signature":"sig","thinking":"hm","type":"thinking"}` {
		t.Errorf("thinking block not first in the assistant turn: %s", mustJSON(asst))
	}
}
