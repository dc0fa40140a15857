package provider_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
)

// step is one scripted Next of scriptTranslator.
type step struct {
	b        []byte
	end      bool
	err      error
	buffered bool
}

// scriptTranslator returns its steps in order; every Next reuses one
// output buffer, as translators do (b is valid until the next call).
type scriptTranslator struct {
	steps []step
	i     int
	out   []byte
}

func (s *scriptTranslator) Next() ([]byte, bool, error) {
	st := s.steps[s.i]
	s.i++
	if st.b == nil {
		return nil, st.end, st.err
	}
	s.out = append(s.out[:0], st.b...)
	return s.out, st.end, st.err
}

func (s *scriptTranslator) Buffered() bool { return s.steps[s.i-1].buffered }

func (s *scriptTranslator) Failure(dst []byte, err error) ([]byte, error) {
	return append(dst, "event: error\ndata: "+err.Error()+"\n\n"...), err
}

func (s *scriptTranslator) Drain()   {}
func (s *scriptTranslator) Release() {}

// chunkWriter records what reaches the client chunk by chunk (the bytes
// between flushes), as a plain provider.Writer.
type chunkWriter struct {
	pending []byte
	chunks  []string
	failAt  int // fail the failAt-th chunk (0: never)
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	w.pending = append(w.pending, p...)
	return len(p), nil
}

func (w *chunkWriter) Flush() error {
	if len(w.pending) == 0 {
		return nil
	}
	w.chunks = append(w.chunks, string(w.pending))
	w.pending = w.pending[:0]
	if w.failAt > 0 && len(w.chunks) >= w.failAt {
		return errors.New("client gone")
	}
	return nil
}

// burstWriter is chunkWriter taking a burst's last event in one call.
type burstWriter struct {
	chunkWriter
	direct int // events written with nothing buffered before them
}

func (w *burstWriter) WriteFlush(p []byte) error {
	if len(w.pending) == 0 && len(p) > 0 {
		w.direct++
	}
	_, _ = w.Write(p)
	return w.Flush()
}

func randomScript(r *rand.Rand) []step {
	n := 1 + r.IntN(12)
	steps := make([]step, 0, n+1)
	for i := range n {
		var b []byte
		if r.IntN(5) > 0 { // some events give the client nothing
			b = fmt.Appendf(nil, "data: {\"i\":%d,\"s\":%q}\n\n", i, bytes.Repeat([]byte{'x'}, r.IntN(40)))
		}
		steps = append(steps, step{b: b, buffered: r.IntN(3) == 0})
	}
	switch r.IntN(3) {
	case 0:
		steps[len(steps)-1].end = true
	case 1:
		steps = append(steps, step{b: []byte("data: [DONE]\n\n"), end: true})
	default:
		steps = append(steps, step{err: errors.New("upstream reset")})
	}
	return steps
}

func relayScript(steps []step, w provider.Writer) error {
	t := &scriptTranslator{steps: steps}
	return providertest.Relay(t, nil).Relay(w)
}

// A writer taking a burst's last event in one call gets the same
// chunks, and the relay the same outcome, as one taking Write then
// Flush, on random event sequences (bursts, events with no bytes for
// the client, [DONE], a failure, a client gone mid-stream).
func TestRelayBurstEndWriterSameChunks(t *testing.T) {
	r := rand.New(rand.NewPCG(22, 3))
	direct := 0
	for i := range 2000 {
		steps := randomScript(r)
		failAt := 0
		if i%5 == 0 {
			failAt = 1 + r.IntN(4)
		}
		plain := &chunkWriter{failAt: failAt}
		burst := &burstWriter{chunkWriter: chunkWriter{failAt: failAt}}
		perr := relayScript(steps, plain)
		berr := relayScript(steps, burst)
		if fmt.Sprint(perr) != fmt.Sprint(berr) {
			t.Fatalf("script %d: errors differ: plain %v, burst %v", i, perr, berr)
		}
		if fmt.Sprint(plain.chunks) != fmt.Sprint(burst.chunks) || string(plain.pending) != string(burst.pending) {
			t.Fatalf("script %d: chunks differ:\nplain %q\nburst %q", i, plain.chunks, burst.chunks)
		}
		direct += burst.direct
	}
	if direct == 0 {
		t.Fatal("no event was written without a buffer before it")
	}
}
