package upstream

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/llmedge/llmedge/sse"
	"github.com/llmedge/llmedge/upstream/transport"
)

// passStream translates an OpenAI-compatible upstream stream: every
// event passes unchanged, except the usage-only chunk llmedge asked for
// on behalf of a client that did not.
type passStream struct {
	sseEvents
	d *Deployment
	// named streams (Responses API) end without [DONE] and report
	// errors as "event: error"; usage receives the reported usage.
	named bool
	usage *Usage
	// hideUsage keeps the usage-only chunk from a client that did not
	// ask for it (llmedge asked, for token limits).
	hideUsage bool
}

var passStreams = sync.Pool{New: func() any { return new(passStream) }}

func (s *passStream) release() {
	*s = passStream{}
	passStreams.Put(s)
}

func (s *passStream) next() ([]byte, bool, error) {
	ev, err := s.nextEvent()
	if err == io.EOF {
		if s.named {
			return nil, true, nil // Responses streams end at EOF
		}
		// The upstream ended without [DONE]: end it for the client.
		return sse.Done, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	had := s.usage != nil && s.usage.Reported
	s.usage.observeEvent(&ev)
	end := ev.IsDone() || (s.named && terminalResponseEvent(ev.Name))
	if s.hidden(&ev, had) {
		return nil, end, nil
	}
	return s.d.scrubErrorEvent(&ev), end, nil
}

func (s *passStream) failure(dst []byte, err error) ([]byte, error) {
	msg, typ, code := midStreamFailure(s.d, err, "mid-event")
	dst = appendFailureEvent(dst, s.named, msg, typ, code)
	if errors.Is(err, transport.ErrTimeout) {
		return dst, fmt.Errorf("%w: %s", err, msg)
	}
	return dst, err
}
