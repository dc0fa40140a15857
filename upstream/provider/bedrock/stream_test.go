package bedrock

import (
	"bytes"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/llmedge/llmedge/upstream/transport"
)

// A ConverseStream whose body ends before messageStop is a truncated
// answer: the client must get an error event, not a [DONE] that makes
// the partial answer look complete (the Anthropic translator does the
// same for a stream ending before message_stop).
func TestBedrockStreamEndingBeforeMessageStopFails(t *testing.T) {
	ev := func(typ, payload string) []byte {
		return appendESMessage(nil, [][2]string{{":event-type", typ}, {":content-type", "application/json"}, {":message-type", "event"}}, []byte(payload))
	}
	var wire []byte
	wire = append(wire, ev("messageStart", `{"role":"assistant"}`)...)
	wire = append(wire, ev("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"half an ans"}}`)...)
	s := &bedrockStream{d: &provider.Endpoint{ID: "br-0"}, x: &transport.Exchange{}, id: "chatcmpl-1", created: 1, model: []byte("nova")}
	s.dec = newESDecoder(bytes.NewReader(wire), 0)
	first, err := s.dec.Next()
	if err != nil {
		t.Fatal(err)
	}
	s.first = first
	var w providertest.Writer
	rerr := providertest.Relay(s, s.x).Relay(&w)
	if rerr == nil || !strings.Contains(w.String(), `"error"`) {
		t.Fatalf("truncated stream relayed as complete (err %v):\n%s", rerr, w.String())
	}

	// A complete one still ends with [DONE] and no error.
	wire = append(wire, ev("messageStop", `{"stopReason":"end_turn"}`)...)
	wire = append(wire, ev("metadata", `{"usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3}}`)...)
	s = &bedrockStream{d: &provider.Endpoint{ID: "br-0"}, x: &transport.Exchange{}, id: "chatcmpl-1", created: 1, model: []byte("nova")}
	s.dec = newESDecoder(bytes.NewReader(wire), 0)
	s.first, _ = s.dec.Next()
	w.Reset()
	if err := providertest.Relay(s, s.x).Relay(&w); err != nil || strings.Contains(w.String(), `"error"`) || !strings.HasSuffix(w.String(), "data: [DONE]\n\n") {
		t.Fatalf("complete stream: %v\n%s", err, w.String())
	}
}
