package anthropic

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/sse"
	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/llmedge/llmedge/upstream/transport"
)

// An Anthropic stream translated to chat that breaks off before
// message_stop must end, for the client, with an OpenAI error event and
// [DONE] (never look complete), mark the connection failed and report
// the cut.
func TestAnthropicChatStreamCutMidwayEndsWithErrorAndDone(t *testing.T) {
	body := "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"half\"}}\n\n"
	s := streamFor(t, false)
	s.sc = sse.NewScanner(strings.NewReader(body), 0)
	x := &transport.Exchange{}
	r := providertest.Relay(s, x)
	var w providertest.Writer
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
	var w providertest.Writer
	err := providertest.Relay(s, &transport.Exchange{}).Relay(&w)
	var ue *provider.Error
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
	var w providertest.Writer
	err := providertest.Relay(s, s.X).Relay(&w)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Relay = %v", err)
	}
	want := `event: error` + "\n" + `data: {"type":"error","error":{"type":"api_error","message":"upstream deployment an-0 closed the stream mid-event"}}` + "\n\n"
	if !strings.HasSuffix(w.String(), want) || strings.Contains(w.String(), "[DONE]") {
		t.Fatalf("client stream:\n%s", w.String())
	}
}
