// Package providertest holds what the tests of providers, of the
// router and of the server share: fake provider APIs on loopback written
// from each provider's documented wire format (upstream.go for OpenAI's,
// anthropic.go, bedrock.go), a client connection to relay to and the
// relay driver over a translator. Only tests import it; it must not
// import upstream, since the providers' own in-package tests import it.
package providertest

import (
	"bytes"
	"errors"

	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/transport"
)

// Writer is a client connection in memory: it keeps what was written,
// counts flushes, and fails from its FailAt-th write on (0: never).
type Writer struct {
	bytes.Buffer
	Flushes int
	FailAt  int
	writes  int
}

// Write implements provider.Writer.
func (w *Writer) Write(p []byte) (int, error) {
	w.writes++
	if w.FailAt > 0 && w.writes >= w.FailAt {
		return 0, errors.New("client gone")
	}
	return w.Buffer.Write(p)
}

// Flush implements provider.Writer.
func (w *Writer) Flush() error { w.Flushes++; return nil }

// Relay is the relay driver over translator t and exchange x (nil for
// a stream read from memory).
func Relay(t provider.Translator, x *transport.Exchange) provider.Stream {
	var a provider.Answer
	a.StartRelay(t, x)
	return a.Stream
}

// LoopReader reads Block over and over, never ending (benchmarks of
// the per-event work).
type LoopReader struct {
	Block []byte
	off   int
}

// Read implements io.Reader.
func (r *LoopReader) Read(p []byte) (int, error) {
	if r.off == len(r.Block) {
		r.off = 0
	}
	n := copy(p, r.Block[r.off:])
	r.off += n
	return n, nil
}
