package messages

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/bytedance/sonic"
)

// chatStream is what an OpenAI-compatible server streams for reasoning,
// text and two tool calls with streamed arguments, then usage.
var chatStream = []string{
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt","choices":[{"index":0,"delta":{"reasoning_content":"think"},"finish_reason":null}]}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt","choices":[{"index":0,"delta":{"content":"lo \"x\""},"finish_reason":null}]}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"Bash","arguments":""}}]},"finish_reason":null}]}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"command\":"}}]},"finish_reason":null}]}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"ls\"}"}}]},"finish_reason":null}]}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"Read","arguments":"{}"}}]},"finish_reason":null}]}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":30,"total_tokens":150,"prompt_tokens_details":{"cached_tokens":100}}}`,
	`[DONE]`,
}

type event struct {
	name string
	data map[string]any
}

func parseEvents(t *testing.T, b []byte) []event {
	t.Helper()
	var out []event
	sc := bufio.NewScanner(bytes.NewReader(b))
	var name string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			name = line[7:]
		case strings.HasPrefix(line, "data: "):
			var m map[string]any
			if err := sonic.UnmarshalString(line[6:], &m); err != nil {
				t.Fatalf("event %s: bad JSON %q: %v", name, line, err)
			}
			if m["type"] != name {
				t.Fatalf("event %s has type %v", name, m["type"])
			}
			out = append(out, event{name, m})
		}
	}
	return out
}

func TestStreamEventSequence(t *testing.T) {
	var s Stream
	s.Reset("claude-sonnet-4-5")
	var out []byte
	for i, d := range chatStream {
		var done bool
		out, done = s.Event(out, []byte(d))
		if done != (i == len(chatStream)-1) {
			t.Fatalf("event %d: done %v", i, done)
		}
	}
	evs := parseEvents(t, out)
	var names []string
	for _, e := range evs {
		names = append(names, e.name)
	}
	want := "message_start ping content_block_start content_block_delta content_block_stop content_block_start content_block_delta content_block_delta content_block_stop " +
		"content_block_start content_block_delta content_block_delta content_block_stop content_block_start content_block_delta content_block_stop message_delta message_stop"
	if strings.Join(names, " ") != want {
		t.Fatalf("events:\n%s\nwant\n%s", strings.Join(names, " "), want)
	}
	text := ""
	args := map[float64]string{}
	for _, e := range evs {
		if e.name == "content_block_delta" {
			d := e.data["delta"].(map[string]any)
			switch d["type"] {
			case "text_delta":
				text += d["text"].(string)
			case "input_json_delta":
				args[e.data["index"].(float64)] += d["partial_json"].(string)
			case "thinking_delta":
				if d["thinking"] != "think" {
					t.Errorf("thinking %v", d)
				}
			}
		}
	}
	if text != `Hello "x"` || args[2] != `{"command":"ls"}` || args[3] != `{}` {
		t.Errorf("text %q args %v", text, args)
	}
	md := evs[len(evs)-2].data
	if md["delta"].(map[string]any)["stop_reason"] != "tool_use" {
		t.Errorf("stop: %v", md)
	}
	u := md["usage"].(map[string]any)
	if u["input_tokens"] != float64(20) || u["cache_read_input_tokens"] != float64(100) || u["output_tokens"] != float64(30) {
		t.Errorf("usage: %v", u)
	}
	tb := evs[9].data["content_block"].(map[string]any)
	if tb["id"] != "call_a" || tb["name"] != "Bash" {
		t.Errorf("tool block: %v", tb)
	}
}

// A stream cut after its finish_reason without [DONE] still closes
// properly at End; an upstream error chunk becomes an error event.
func TestStreamEndAndError(t *testing.T) {
	var s Stream
	s.Reset("m")
	out, _ := s.Event(nil, []byte(chatStream[2]))
	out = s.End(out)
	out = s.End(out)
	evs := parseEvents(t, out)
	if evs[len(evs)-1].name != "message_stop" || strings.Count(string(out), "message_stop") != 2 /* event: and type */ {
		t.Fatalf("end: %s", out)
	}
	s.Reset("m")
	out, done := s.Event(nil, []byte(`{"error":{"message":"overloaded \"now\"","type":"server_error"}}`))
	evs = parseEvents(t, out)
	if !done || evs[0].name != "error" || evs[0].data["error"].(map[string]any)["message"] != `overloaded "now"` {
		t.Fatalf("error: %s", out)
	}
}

// A text delta costs no allocation once buffers are warm.
func TestStreamTextDeltaAllocs(t *testing.T) {
	var s Stream
	s.Reset("m")
	buf, _ := s.Event(nil, []byte(chatStream[2]))
	ev := []byte(chatStream[3])
	tool := []byte(chatStream[6])
	n := testing.AllocsPerRun(200, func() {
		buf, _ = s.Event(buf[:0], ev)
		buf, _ = s.Event(buf[:0], tool)
	})
	if n != 0 {
		t.Fatalf("%v allocs per event", n)
	}
}

func BenchmarkStreamTextDelta(b *testing.B) {
	var s Stream
	s.Reset("m")
	buf, _ := s.Event(nil, []byte(chatStream[2]))
	ev := []byte(chatStream[3])
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = s.Event(buf[:0], ev)
	}
}

func TestAnswer(t *testing.T) {
	body := `{"id":"chatcmpl-9","object":"chat.completion","model":"gpt","choices":[{"index":0,"message":{"role":"assistant","content":"Sure.","reasoning_content":"hmm","tool_calls":[{"id":"call_1","type":"function","function":{"name":"Bash","arguments":"{\"command\":\"ls\"}"}},{"id":"call_2","type":"function","function":{"name":"X","arguments":"not json"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":4}}}`
	b, err := AppendAnswer(nil, []byte(body), "claude-x")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		StopReason string `json:"stop_reason"`
		Content    []map[string]any
		Usage      map[string]float64
	}
	if err := sonic.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if m.StopReason != "tool_use" || len(m.Content) != 4 || m.Content[0]["type"] != "thinking" || m.Content[1]["text"] != "Sure." {
		t.Fatalf("%s", b)
	}
	if in := m.Content[2]["input"].(map[string]any); in["command"] != "ls" || m.Content[2]["id"] != "call_1" {
		t.Errorf("tool_use: %v", m.Content[2])
	}
	if in := m.Content[3]["input"].(map[string]any); len(in) != 0 {
		t.Errorf("broken arguments must give {}: %v", m.Content[3])
	}
	if m.Usage["input_tokens"] != 6 || m.Usage["cache_read_input_tokens"] != 4 || m.Usage["output_tokens"] != 5 {
		t.Errorf("usage %v", m.Usage)
	}
}
