package responses

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/bytedance/sonic"
)

var chatStream = []string{
	`{"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
	`{"id":"c1","choices":[{"index":0,"delta":{"reasoning_content":"plan"},"finish_reason":null}]}`,
	`{"id":"c1","choices":[{"index":0,"delta":{"content":"Hi "},"finish_reason":null}]}`,
	`{"id":"c1","choices":[{"index":0,"delta":{"content":"\"there\""},"finish_reason":null}]}`,
	`{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"shell","arguments":""}}]},"finish_reason":null}]}`,
	`{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"command\":"}}]},"finish_reason":null}]}`,
	`{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"[\"ls\"]}"}}]},"finish_reason":null}]}`,
	`{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"apply_patch","arguments":"{\"input\":\"*** Begin Patch\"}"}}]},"finish_reason":null}]}`,
	`{"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
	`{"id":"c1","choices":[],"usage":{"prompt_tokens":50,"completion_tokens":9,"prompt_tokens_details":{"cached_tokens":10},"completion_tokens_details":{"reasoning_tokens":3}}}`,
	`[DONE]`,
}

type event struct {
	name string
	data map[string]any
}

func parse(t *testing.T, b []byte) []event {
	t.Helper()
	var out []event
	var name string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "event: "):
			name = l[7:]
		case strings.HasPrefix(l, "data: "):
			var m map[string]any
			if err := sonic.UnmarshalString(l[6:], &m); err != nil {
				t.Fatalf("%s: %v: %s", name, err, l)
			}
			if m["type"] != name || m["sequence_number"] != float64(len(out)) {
				t.Fatalf("event %s: type %v seq %v", name, m["type"], m["sequence_number"])
			}
			out = append(out, event{name, m})
		}
	}
	return out
}

func TestStreamEvents(t *testing.T) {
	var s Stream
	s.Reset(Meta{ID: "resp_abc", Model: "claude-x", Store: true, Custom: map[string]bool{"apply_patch": true}})
	var out []byte
	for _, d := range chatStream {
		out, _ = s.Event(out, []byte(d))
	}
	evs := parse(t, out)
	var names []string
	for _, e := range evs {
		names = append(names, strings.TrimPrefix(e.name, "response."))
	}
	want := "created in_progress output_item.added reasoning_summary_part.added reasoning_summary_text.delta reasoning_summary_text.done reasoning_summary_part.done output_item.done " +
		"output_item.added content_part.added output_text.delta output_text.delta output_text.done content_part.done output_item.done " +
		"output_item.added function_call_arguments.delta function_call_arguments.delta function_call_arguments.done output_item.done " +
		"output_item.added output_item.done completed"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("events\n%s\nwant\n%s", got, want)
	}
	if evs[12].data["text"] != `Hi "there"` || evs[18].data["arguments"] != `{"command":["ls"]}` {
		t.Errorf("done texts: %v / %v", evs[12].data, evs[18].data)
	}
	custom := evs[21].data["item"].(map[string]any)
	if custom["type"] != "custom_tool_call" || custom["input"] != "*** Begin Patch" || custom["call_id"] != "call_b" {
		t.Errorf("custom call: %v", custom)
	}
	resp := evs[len(evs)-1].data["response"].(map[string]any)
	if resp["status"] != "completed" || resp["id"] != "resp_abc" || len(resp["output"].([]any)) != 4 {
		t.Errorf("completed: %v", resp)
	}
	u := resp["usage"].(map[string]any)
	if u["input_tokens"] != float64(50) || u["output_tokens"] != float64(9) || u["total_tokens"] != float64(59) {
		t.Errorf("usage %v", u)
	}
	conv := AppendConversation(nil, []byte(`[{"role":"user","content":"old"}]`), []byte(`[{"role":"user","content":"new"}]`), &s.Result)
	var msgs []map[string]any
	if err := sonic.Unmarshal(conv, &msgs); err != nil || len(msgs) != 3 || msgs[2]["content"] != `Hi "there"` || len(msgs[2]["tool_calls"].([]any)) != 2 {
		t.Errorf("conversation %s: %v", conv, err)
	}
}

func TestStreamLengthIsIncompleteAndErrorFails(t *testing.T) {
	var s Stream
	s.Reset(Meta{ID: "resp_1", Model: "m"})
	out, _ := s.Event(nil, []byte(chatStream[2]))
	out, _ = s.Event(out, []byte(`{"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"length"}]}`))
	out, _ = s.Event(out, []byte(`[DONE]`))
	evs := parse(t, out)
	last := evs[len(evs)-1]
	if last.name != "response.incomplete" || last.data["response"].(map[string]any)["incomplete_details"].(map[string]any)["reason"] != "max_output_tokens" {
		t.Fatalf("%v", last)
	}
	s.Reset(Meta{ID: "resp_2", Model: "m"})
	out, done := s.Event(nil, []byte(`{"error":{"message":"boom","type":"server_error"}}`))
	evs = parse(t, out)
	if !done || evs[0].name != "error" || evs[0].data["message"] != "boom" || evs[1].name != "response.failed" {
		t.Fatalf("%s", out)
	}
}

func TestStreamDeltaAllocs(t *testing.T) {
	var s Stream
	s.Reset(Meta{ID: "resp_1", Model: "m"})
	buf, _ := s.Event(nil, []byte(chatStream[2]))
	ev := []byte(chatStream[3])
	for range 100 { // grow the item's text buffer first
		buf, _ = s.Event(buf[:0], ev)
	}
	s.items[0].text = s.items[0].text[:0]
	n := testing.AllocsPerRun(100, func() { buf, _ = s.Event(buf[:0], ev) })
	if n != 0 {
		t.Fatalf("%v allocs per delta", n)
	}
}

func BenchmarkStreamTextDelta(b *testing.B) {
	var s Stream
	s.Reset(Meta{ID: "resp_1", Model: "m"})
	buf, _ := s.Event(nil, []byte(chatStream[2]))
	ev := []byte(chatStream[3])
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = s.Event(buf[:0], ev)
		if len(s.items[0].text) > 1<<16 {
			s.items[0].text = s.items[0].text[:0]
		}
	}
}

func TestAnswer(t *testing.T) {
	var r Result
	m := Meta{ID: "resp_9", Model: "claude-x", Store: true}
	err := r.ReadAnswer([]byte(`{"id":"c","choices":[{"message":{"role":"assistant","content":"ok \"q\"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"shell","arguments":"{\"command\":[\"ls\"]}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}`), &m)
	if err != nil {
		t.Fatal(err)
	}
	b := AppendResponse(nil, &m, &r, "completed")
	var doc struct {
		ID, Status string
		Output     []map[string]any
	}
	if err := sonic.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if doc.Status != "completed" || len(doc.Output) != 2 || doc.Output[1]["arguments"] != `{"command":["ls"]}` {
		t.Fatalf("%s", b)
	}
	if c := doc.Output[0]["content"].([]any)[0].(map[string]any); c["text"] != `ok "q"` {
		t.Errorf("text %v", c)
	}
}
