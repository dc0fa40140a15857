package cache

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// events is a Writer recording what each Flush sent.
type events struct {
	buf     []byte
	flushed []string
	failAt  int
}

func (w *events) Write(p []byte) (int, error) { w.buf = append(w.buf, p...); return len(p), nil }
func (w *events) Flush() error {
	if w.failAt > 0 && len(w.flushed)+1 == w.failAt {
		return errors.New("gone")
	}
	w.flushed = append(w.flushed, string(w.buf))
	w.buf = w.buf[:0]
	return nil
}

var chatStream = []string{
	"data: {\"id\":\"chatcmpl-AbCdEf123456\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n",
	"data: {\"id\":\"chatcmpl-AbCdEf123456\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n",
	"data: {\"id\":\"chatcmpl-AbCdEf123456\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":null}]}\n\n",
	"data: {\"id\":\"chatcmpl-AbCdEf123456\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
	"data: {\"id\":\"chatcmpl-AbCdEf123456\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\n",
	"data: [DONE]\n\n",
}

func recorded(t *testing.T) *Entry {
	var r Recorder
	// Written as the relay writes: sometimes two events per flush.
	_, _ = r.Write([]byte(chatStream[0]))
	_ = r.Flush()
	_, _ = r.Write([]byte(chatStream[1] + chatStream[2]))
	_ = r.Flush()
	for _, ev := range chatStream[3:] {
		_, _ = r.Write([]byte(ev))
		_ = r.Flush()
	}
	e := StreamEntry(r.Events())
	if len(e.Events) != len(chatStream) || e.UsageEvent != 4 || string(e.ID) != "chatcmpl-AbCdEf123456" || string(e.Created) != "1700000000" {
		t.Fatalf("recorded %d events, usage at %d, id %s created %s", len(e.Events), e.UsageEvent, e.ID, e.Created)
	}
	return e
}

func TestReplaySendsEachEventAloneWithFreshIDs(t *testing.T) {
	e := recorded(t)
	now := time.Unix(1800000000, 0)
	var rp Replay
	rp.Reset(e, false, now)
	var w events
	if err := rp.Relay(&w); err != nil {
		t.Fatal(err)
	}
	if len(w.flushed) != len(chatStream) {
		t.Fatalf("%d flushes for %d events", len(w.flushed), len(chatStream))
	}
	newID := ""
	for i, got := range w.flushed {
		if strings.Contains(got, "AbCdEf123456") || strings.Contains(got, "1700000000") {
			t.Fatalf("event %d keeps the stored id or timestamp: %s", i, got)
		}
		if i < 5 {
			id := got[strings.Index(got, "chatcmpl-") : strings.Index(got, "chatcmpl-")+len("chatcmpl-AbCdEf123456")]
			if newID == "" {
				newID = id
			} else if id != newID {
				t.Fatalf("ids differ within one replay: %s %s", newID, id)
			}
		}
		// Byte for byte the stored event otherwise.
		want := strings.ReplaceAll(strings.ReplaceAll(chatStream[i], "chatcmpl-AbCdEf123456", newID), "1700000000", "1800000000")
		if got != want {
			t.Fatalf("event %d:\n got %q\nwant %q", i, got, want)
		}
	}
	var rp2 Replay
	rp2.Reset(e, true, now)
	var w2 events
	_ = rp2.Relay(&w2)
	if len(w2.flushed) != len(chatStream)-1 || strings.Contains(strings.Join(w2.flushed, ""), "usage") {
		t.Fatal("usage chunk replayed to a client that did not ask for it")
	}
	if strings.Contains(rp2.id2(), newID) {
		t.Fatal("two replays share an id")
	}
	w3 := events{failAt: 2}
	if err := rp.Relay(&w3); err == nil {
		t.Fatal("a failing client write is not reported")
	}
}

func (r *Replay) id2() string { return string(r.id) }

func TestPatchCreatedOnlyAsValue(t *testing.T) {
	body := []byte(`{"id":"resp_0123456789abcdef", "created_at" : 1700000000, "text":"1700000000 and \"created\":17000000001"}`)
	got := string(patch(nil, body, []byte("resp_0123456789abcdef"), []byte("resp_ZZZZZZZZZZZZZZZZ"), []byte("1700000000"), []byte("1800000000")))
	want := `{"id":"resp_ZZZZZZZZZZZZZZZZ", "created_at" : 1800000000, "text":"1700000000 and \"created\":17000000001"}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestChatStreamAndJSONConvert(t *testing.T) {
	e := recorded(t)
	j, ok := ChatToJSON(e)
	if !ok {
		t.Fatal("stream not folded")
	}
	for _, want := range []string{`"object":"chat.completion"`, `"content":"Hello"`, `"finish_reason":"stop"`, `"role":"assistant"`, `"total_tokens":5`, `"id":"chatcmpl-AbCdEf123456"`} {
		if !bytes.Contains(j.Body, []byte(want)) {
			t.Errorf("folded answer lacks %s: %s", want, j.Body)
		}
	}
	s, ok := ChatToStream(j)
	if !ok {
		t.Fatal("answer not unfolded")
	}
	back, ok := ChatToJSON(s)
	if !ok || !bytes.Equal(back.Body, j.Body) {
		t.Fatalf("round trip differs:\n%s\n%s", back.Body, j.Body)
	}
	if s.UsageEvent < 0 || string(s.Events[len(s.Events)-1]) != "data: [DONE]\n\n" {
		t.Fatalf("unfolded stream: usage at %d, last %q", s.UsageEvent, s.Events[len(s.Events)-1])
	}
	tools := JSONEntry(nil, []byte(`{"id":"chatcmpl-xyz12345","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},"finish_reason":"tool_calls"}]}`))
	ts, ok := ChatToStream(tools)
	if !ok {
		t.Fatal("tool call answer not unfolded")
	}
	tj, ok := ChatToJSON(ts)
	if !ok || !bytes.Contains(tj.Body, []byte(`"arguments":"{\"a\":1}"`)) || !bytes.Contains(tj.Body, []byte(`"id":"call_1"`)) {
		t.Fatalf("tool calls lost: %s", tj.Body)
	}
	if _, ok := ChatToJSON(StreamEntry([][]byte{[]byte("event: response.created\ndata: {\"type\":\"response.created\"}\n\n")})); ok {
		t.Fatal("a Responses stream folded as chat")
	}
}

func TestReplayHitAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	e := JSONEntry([]byte("application/json"), []byte(`{"id":"chatcmpl-AbCdEf123456","object":"chat.completion","created":1700000000,"choices":[{"index":0,"message":{"role":"assistant","content":"Paris"},"finish_reason":"stop"}]}`))
	var rp Replay
	dst := make([]byte, 0, 1024)
	now := time.Now()
	n := testing.AllocsPerRun(100, func() {
		rp.Reset(e, false, now)
		dst = rp.AppendBody(dst[:0])
	})
	if n != 0 {
		t.Fatalf("a JSON replay allocates %v times", n)
	}
}
