package upstream

import (
	"strings"
	"testing"

	"github.com/llmedge/llmedge/upstream/translate/responses"
	"github.com/llmedge/llmedge/upstream/transport"
)

// chunkTranslator hands out the same chat chunk forever: the inner
// translator of a clientStream under test.
type chunkTranslator struct {
	ev   []byte
	fail error
}

func (c *chunkTranslator) Next() ([]byte, bool, error) {
	if c.fail != nil {
		return nil, false, c.fail
	}
	return c.ev, false, nil
}
func (c *chunkTranslator) Buffered() bool { return false }
func (c *chunkTranslator) Failure(dst []byte, err error) ([]byte, error) {
	return append(dst, "data: {\"error\":{\"message\":\"upstream deployment d stalled\",\"type\":\"timeout_error\"}}\n\ndata: [DONE]\n\n"...), err
}
func (c *chunkTranslator) Drain()   {}
func (c *chunkTranslator) Release() {}

var textChunk = []byte(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}]}` + "\n\n")

// A translated text delta costs no allocation per event, in either
// client API, once buffers are warm (the chat relay's own events are 0).
func TestClientStreamTextDeltaAllocs(t *testing.T) {
	for name, conv := range map[string]clientConv{"messages": &messagesConv{}, "responses": &responsesConv{}} {
		s := newClientStream(&chunkTranslator{ev: textChunk}, conv)
		for range 400 { // grow the buffers, then start over with them
			if _, _, err := s.Next(); err != nil {
				t.Fatal(err)
			}
		}
		if rc, ok := conv.(*responsesConv); ok {
			rc.s.Reset(responses.Meta{ID: "resp_1", Model: "m"})
		}
		if n := testing.AllocsPerRun(100, func() { _, _, _ = s.Next() }); n != 0 {
			t.Errorf("%s: %v allocs per event", name, n)
		}
	}
}

// A mid-stream failure reaches the Claude client as Anthropic's error
// event with the chat failure's message.
func TestClientStreamFailureInClientFormat(t *testing.T) {
	s := newClientStream(&chunkTranslator{ev: textChunk}, &messagesConv{})
	b, _ := s.Failure(nil, transport.ErrTimeout)
	if !strings.HasPrefix(string(b), "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"upstream deployment d stalled\"}}") {
		t.Fatalf("%q", b)
	}
}

// CPU per translated event, to compare with BenchmarkAnthropicRelayTextDelta.
func BenchmarkClientStreamMessagesTextDelta(b *testing.B) {
	s := newClientStream(&chunkTranslator{ev: textChunk}, &messagesConv{})
	_, _, _ = s.Next()
	b.ReportAllocs()
	b.SetBytes(int64(len(textChunk)))
	for b.Loop() {
		_, _, _ = s.Next()
	}
}

func BenchmarkClientStreamResponsesTextDelta(b *testing.B) {
	c := &responsesConv{}
	s := newClientStream(&chunkTranslator{ev: textChunk}, c)
	_, _, _ = s.Next()
	b.ReportAllocs()
	b.SetBytes(int64(len(textChunk)))
	for b.Loop() {
		_, _, _ = s.Next()
		if b.N%4096 == 0 {
			c.s.Reset(responses.Meta{ID: "resp_1", Model: "m"})
		}
	}
}
