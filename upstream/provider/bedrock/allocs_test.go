package bedrock

import (
	"testing"

	"github.com/llmedge/llmedge/internal/allocs"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
)

// textDeltaStep is the per-event work of a Bedrock stream: decode one
// event-stream message (a text delta, size bytes) and translate it to a
// chat chunk.
func textDeltaStep(tb testing.TB) (step func(), size int) {
	msg := appendESMessage(nil, [][2]string{{":event-type", "contentBlockDelta"}, {":content-type", "application/json"}, {":message-type", "event"}},
		[]byte(`{"contentBlockIndex":0,"delta":{"text":" the quick brown fox"},"p":"abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"}`))
	s := &bedrockStream{id: "chatcmpl-0123456789abcdef", created: 1700000000, model: []byte("claude")}
	s.dec = newESDecoder(&providertest.LoopReader{Block: msg}, 0)
	return func() {
		m, err := s.dec.Next()
		if err != nil {
			tb.Fatal(err)
		}
		s.buf = s.buf[:0]
		if err := s.translate(m); err != nil {
			tb.Fatal(err)
		}
	}, len(msg)
}

// Bedrock chunk translation allocates nothing per event (README
// "Performance").
func TestStreamTextDeltaAllocs(t *testing.T) {
	step, _ := textDeltaStep(t)
	allocs.None(t, "one Bedrock text delta", 1000, step)
}
