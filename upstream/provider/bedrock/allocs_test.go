package bedrock

import (
	"testing"

	"github.com/llmedge/llmedge/internal/allocs"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
)

// Decoding one Bedrock event-stream message and translating it to a
// chat chunk allocates nothing (README "Performance").
func TestStreamTextDeltaAllocs(t *testing.T) {
	msg := appendESMessage(nil, [][2]string{{":event-type", "contentBlockDelta"}, {":content-type", "application/json"}, {":message-type", "event"}},
		[]byte(`{"contentBlockIndex":0,"delta":{"text":" the quick brown fox"}}`))
	s := &bedrockStream{id: "chatcmpl-0123456789abcdef", created: 1700000000, model: []byte("claude")}
	s.dec = newESDecoder(&providertest.LoopReader{Block: msg}, 0)
	allocs.None(t, "one Bedrock text delta", 1000, func() {
		m, err := s.dec.Next()
		if err != nil {
			t.Fatal(err)
		}
		s.buf = s.buf[:0]
		if err := s.translate(m); err != nil {
			t.Fatal(err)
		}
	})
}
