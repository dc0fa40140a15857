package openai

import (
	"testing"

	"github.com/llmedge/llmedge/internal/allocs"
	"github.com/llmedge/llmedge/sse"
	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
)

// The repeated-chunk guard's cost on the pass-through relay, per event:
// reading the chunk's delta.content and comparing it with the last
// (copying it when it changed, as it does in every real answer).

// twoChunks alternates two text chunks (OpenAI's obfuscation field
// differs per chunk, as on api.openai.com).
const twoChunks = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":" quick brown"},"logprobs":null,"finish_reason":null}],"obfuscation":"a1"}` + "\n\n" +
	`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":" fox jumps"},"logprobs":null,"finish_reason":null}],"obfuscation":"b22"}` + "\n\n"

// bounded ends a looping pass stream after left events.
type bounded struct {
	*passStream
	left int
}

func (b *bounded) Next() ([]byte, bool, error) {
	out, _, err := b.passStream.Next()
	b.left--
	return out, b.left <= 0, err
}
func (b *bounded) Drain() {}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) Flush() error                { return nil }

func loopRelay(tb testing.TB, limit int) (*provider.Answer, *bounded) {
	sc := sse.NewScanner(&providertest.LoopReader{Block: []byte(twoChunks)}, 0)
	first, err := sc.Next()
	if err != nil {
		tb.Fatal(err)
	}
	st := &bounded{passStream: &passStream{SSEEvents: provider.SSEEvents{SC: sc, First: first}, d: &provider.Endpoint{ID: "d"}}}
	a := &provider.Answer{RepeatLimit: limit}
	a.StartRelay(st, nil)
	return a, st
}

// TestRelayRepeatGuardAllocs: relaying with the guard on allocates
// nothing per event.
func TestRelayRepeatGuardAllocs(t *testing.T) {
	a, st := loopRelay(t, provider.DefaultRepeatLimit)
	allocs.None(t, "relaying 100 chunks with the repeat guard", 20, func() {
		st.left = 100
		if err := a.Stream.Relay(discard{}); err != nil {
			t.Fatal(err)
		}
	})
}

// BenchmarkPassRelayChunk is the pass-through relay's per-event work
// (scan, usage off, relay) without and with the guard: the difference
// is the guard's cost per event.
func BenchmarkPassRelayChunk(b *testing.B) {
	for _, c := range []struct {
		name  string
		limit int
	}{{"guard-off", 0}, {"guard-on", provider.DefaultRepeatLimit}} {
		b.Run(c.name, func(b *testing.B) {
			a, st := loopRelay(b, c.limit)
			st.left = b.N
			b.SetBytes(int64(len(twoChunks) / 2))
			b.ReportAllocs()
			b.ResetTimer()
			if err := a.Stream.Relay(discard{}); err != nil {
				b.Fatal(err)
			}
		})
	}
}
