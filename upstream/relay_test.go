package upstream

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/sse"
	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/transport"
)

// flushCounter records what was flushed and how often.
type flushCounter struct {
	bufWriter
	flushes int
	failAt  int // fail the n-th Write (0: never)
	writes  int
}

func (w *flushCounter) Write(p []byte) (int, error) {
	w.writes++
	if w.failAt > 0 && w.writes >= w.failAt {
		return 0, errors.New("broken pipe")
	}
	return w.bufWriter.Write(p)
}

func (w *flushCounter) Flush() error { w.flushes++; return nil }

// An Anthropic stream translated to chat that breaks off before
// message_stop must end, for the client, with an OpenAI error event and
// [DONE] (never look complete), mark the connection failed and report
// the cut.
func TestAnthropicChatStreamCutMidwayEndsWithErrorAndDone(t *testing.T) {
	body := "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"half\"}}\n\n"
	s := streamFor(t, false)
	s.sc = sse.NewScanner(strings.NewReader(body), 0)
	x := &transport.Exchange{}
	r := relayOver(s, x)
	var w flushCounter
	err := r.Relay(&w)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Relay = %v, want the unexpected EOF", err)
	}
	out := w.String()
	if !strings.Contains(out, `"content":"half"`) || !strings.Contains(out, `"code":"upstream_stream_error"`) || !strings.HasSuffix(out, "data: [DONE]\n\n") {
		t.Fatalf("client stream:\n%s", out)
	}
	if !strings.Contains(out, "before message_stop") || !x.Failed() {
		t.Fatalf("failure not reported as a cut before message_stop (failed=%v):\n%s", x.Failed(), out)
	}
}

// An Anthropic error event in the middle of a translated stream reaches
// the client as the OpenAI error it maps to, then [DONE].
func TestAnthropicChatStreamErrorEventMidway(t *testing.T) {
	body := "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"
	s := streamFor(t, false)
	s.sc = sse.NewScanner(strings.NewReader(body), 0)
	var w flushCounter
	err := relayOver(s, &transport.Exchange{}).Relay(&w)
	var ue *Error
	if !errors.As(err, &ue) || ue.Code != "overloaded_error" || ue.Status != 529 {
		t.Fatalf("Relay = %#v", err)
	}
	want := `data: {"error":{"message":"Overloaded","type":"service_unavailable_error","param":null,"code":"overloaded_error"}}` + "\n\ndata: [DONE]\n\n"
	if !strings.HasSuffix(w.String(), want) {
		t.Fatalf("client stream:\n%s", w.String())
	}
}

// A native /v1/messages stream cut mid-way ends with Anthropic's own
// "event: error" (no [DONE]: the format has none).
func TestNativeAnthropicStreamCutMidwayEndsWithErrorEvent(t *testing.T) {
	first := sse.Event{Name: []byte("message_start"), Raw: []byte("event: message_start\ndata: {}\n\n")}
	s := &nativeStream{SSEEvents: provider.SSEEvents{X: &transport.Exchange{}, SC: sse.NewScanner(strings.NewReader("event: content_block_delta\ndata: {\"ty"), 0), First: first}, d: &provider.Endpoint{ID: "an-0"}}
	var w flushCounter
	err := relayOver(s, s.X).Relay(&w)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Relay = %v", err)
	}
	want := `event: error` + "\n" + `data: {"type":"error","error":{"type":"api_error","message":"upstream deployment an-0 closed the stream mid-event"}}` + "\n\n"
	if !strings.HasSuffix(w.String(), want) || strings.Contains(w.String(), "[DONE]") {
		t.Fatalf("client stream:\n%s", w.String())
	}
}

// The driver flushes once per burst: events already buffered upstream
// go out together, a lone event at once; a client that went away stops
// the relay with ErrClientGone.
func TestRelayFlushesPerBurstAndStopsWhenClientGone(t *testing.T) {
	stream := "data: {\"a\":1}\n\ndata: {\"a\":2}\n\ndata: [DONE]\n\n"
	newPass := func() *passStream {
		sc := sse.NewScanner(bytes.NewReader([]byte(stream)), 0)
		first, err := sc.Next()
		if err != nil {
			t.Fatal(err)
		}
		return &passStream{SSEEvents: provider.SSEEvents{X: &transport.Exchange{}, SC: sc, First: first}, d: &provider.Endpoint{ID: "d"}}
	}
	s := newPass()
	var w flushCounter
	if err := relayOver(s, s.X).Relay(&w); err != nil {
		t.Fatal(err)
	}
	if w.String() != stream || w.flushes != 1 {
		t.Fatalf("relayed %q with %d flushes, want it unchanged in 1", w.String(), w.flushes)
	}
	w = flushCounter{failAt: 2}
	if err := relayOver(newPass(), nil).Relay(&w); !errors.Is(err, ErrClientGone) {
		t.Fatalf("Relay to a gone client = %v", err)
	}
}

// relayOver is the relay driver over translator t and exchange x.
func relayOver(t provider.Translator, x *transport.Exchange) provider.Stream {
	var a provider.Answer
	a.StartRelay(t, x)
	return a.Stream
}
