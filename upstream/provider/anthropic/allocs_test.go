package anthropic

import (
	"io"
	"testing"

	"github.com/llmedge/llmedge/internal/allocs"
	"github.com/llmedge/llmedge/sse"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
)

// The relay's per-event work on an Anthropic stream (scan one event off
// the wire, translate it to a chat chunk, write it) allocates nothing
// (README "Performance").
func TestRelayTextDeltaAllocs(t *testing.T) {
	s := streamFor(t, false)
	s.sc = sse.NewScanner(&providertest.LoopReader{Block: []byte("event: content_block_delta\ndata: " + textDeltaData + "\n\n")}, 0)
	allocs.None(t, "relaying one Anthropic text delta", 1000, func() {
		ev, err := s.sc.Next()
		if err != nil {
			t.Fatal(err)
		}
		s.buf, _, _ = s.translate(s.buf[:0], ev)
		_, _ = io.Discard.Write(s.buf)
	})
}
