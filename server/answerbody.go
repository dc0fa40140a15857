package server

import (
	"errors"
	"io"
	"net"
	"time"

	"github.com/llmedge/llmedge/internal/clock"
	"github.com/llmedge/llmedge/upstream"
)

// answerPart is how much of a complete answer one write hands to the
// connection: the write deadline moves with each part that goes out.
const answerPart = 64 << 10

// answerBody writes a complete (non-stream) upstream answer to its
// client straight from the upstream response's buffer, with no copy.
// The call stays in flight until the answer is written: a client that
// does not read it holds the answer, and shows in
// llmedge_requests_in_flight, until a write has blocked for the
// client write timeout (writestall.go); then the connection is cut, the
// cut counted in llmedge_answer_write_timeouts_total and the answer
// released.
type answerBody struct {
	s    *Server
	c    *call
	resp *upstream.Response
	done bool
}

// SupportsBodyWriteTo tells fasthttp to call WriteTo.
func (b *answerBody) SupportsBodyWriteTo() bool { return true }

// WriteTo writes the answer to w part by part.
func (b *answerBody) WriteTo(w io.Writer) (int64, error) {
	p := b.resp.Body
	var n int64
	// Clock reads from the monotonic clock alone (internal/clock): one
	// per part; the last is the end of the call (Finish).
	start := clock.Now(b.c.obs.HeadAt())
	now := start
	for len(p) > 0 {
		part := p[:min(len(p), answerPart)]
		b.c.out.armDeadline(now)
		m, err := w.Write(part)
		n += int64(m)
		if err != nil {
			b.c.out.wait = time.Since(start)
			b.c.out.err = err
			if isTimeout(err) {
				b.s.obs.AnswerWriteTimeout()
				resetOnClose(b.c.out.ctx.Conn())
			}
			return n, err
		}
		p = p[len(part):]
		now = clock.Now(start)
	}
	b.c.out.wait = now.Sub(start)
	b.c.obs.Written(now)
	return n, nil
}

// resetOnClose makes the coming close of a connection whose client
// stopped reading an abortive one (RST, like nginx's
// reset_timedout_connection): a graceful close would leave what the
// kernel holds unsent for it (megabytes with send-buffer autotuning)
// queued behind a zero window until the kernel gives up on it.
func resetOnClose(c net.Conn) {
	if tc, ok := c.(interface{ SetLinger(int) error }); ok {
		_ = tc.SetLinger(0)
	}
}

func (b *answerBody) Read([]byte) (int, error) { return 0, errAnswerRead }

var errAnswerRead = errors.New("llmedge: answer bodies are written with WriteTo")

// Close is called by fasthttp once the response is written (or
// abandoned): it releases the upstream answer and the call.
func (b *answerBody) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	b.s.finish(b.c, b.resp)
	return nil
}
