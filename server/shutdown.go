package server

import (
	"context"
	"errors"
	"github.com/llmedge/llmedge/internal/errbody"
	"github.com/llmedge/llmedge/server/observe"
	"sync"
	"time"

	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// streamCutTimeout bounds how long a stream cut at the end of the
// shutdown grace may take to write its last event (a client that does
// not read gets no longer); Shutdown waits for the cut streams at most
// a second more than this.
const streamCutTimeout = 2 * time.Second

// openStreams are the SSE answers being relayed, so that Shutdown can
// wait for them (an HTTP/1.0 stream's connection is no longer
// fasthttp's to wait for) and cut them when the grace runs out. An
// intrusive list: adding and removing a stream allocates nothing.
type openStreams struct {
	mu    sync.Mutex
	head  *call
	n     int
	empty chan struct{} // closed when n drops to 0; made by a waiter
}

func (o *openStreams) add(c *call) {
	o.mu.Lock()
	c.nextOpen, c.prevOpen = o.head, nil
	if o.head != nil {
		o.head.prevOpen = c
	}
	o.head = c
	o.n++
	o.mu.Unlock()
}

func (o *openStreams) remove(c *call) {
	o.mu.Lock()
	if c.prevOpen != nil {
		c.prevOpen.nextOpen = c.nextOpen
	} else {
		o.head = c.nextOpen
	}
	if c.nextOpen != nil {
		c.nextOpen.prevOpen = c.prevOpen
	}
	c.nextOpen, c.prevOpen = nil, nil
	o.n--
	if o.n == 0 && o.empty != nil {
		close(o.empty)
		o.empty = nil
	}
	o.mu.Unlock()
}

// wait returns nil once no stream is open, or ctx's error.
func (o *openStreams) wait(ctx context.Context) error {
	o.mu.Lock()
	if o.n == 0 {
		o.mu.Unlock()
		return nil
	}
	if o.empty == nil {
		o.empty = make(chan struct{})
	}
	ch := o.empty
	o.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// cut ends every open stream: its upstream call is canceled, which
// makes the relay return, and its client write deadline becomes
// streamCutTimeout from now (a client that does not read cannot hold
// the last event up); the stream's writer then sends the last event
// (endCut) and ends the response.
func (o *openStreams) cut() {
	deadline := time.Now().Add(streamCutTimeout)
	o.mu.Lock()
	defer o.mu.Unlock()
	for c := o.head; c != nil; c = c.nextOpen {
		c.out.cut.Store(true)
		_ = c.out.ctx.SetWriteDeadline(deadline)
		c.cancel.Cancel()
	}
}

// Shutdown stops accepting, lets in-flight requests and streams finish
// until ctx is done, then cuts the streams still open: each gets an
// error event and a clean end, and its access-log line, before Shutdown
// returns (it waits for them at most streamCutTimeout and a second).
// Non-stream requests still running are left to the process's exit.
func (s *Server) Shutdown(ctx context.Context) error {
	defer s.current().edge.gate.Close()
	defer s.current().stopProbes()
	defer s.leaveReplicas()
	err := s.srv.ShutdownWithContext(ctx)
	if err == nil {
		err = s.streams.wait(ctx)
	}
	if err != nil {
		s.streams.cut()
		wctx, cancel := context.WithTimeout(context.Background(), streamCutTimeout+time.Second)
		defer cancel()
		_ = s.streams.wait(wctx)
	}
	return err
}

// endCut ends a stream cut by Shutdown: relayErr is what its relay (or,
// for a keepalive stream, the router) returned. It writes the last
// event in the route's shape (OpenAI's error object and [DONE]; the
// Responses API's error event; Anthropic's "event: error" on
// /v1/messages) through w unless the relay already ended the stream
// with an error event of its own, and returns the stream's outcome.
func endCut(c *call, w upstream.Writer, relayErr error) error {
	if errors.Is(relayErr, upstream.ErrClientGone) {
		return relayErr
	}
	if isCancel(relayErr) {
		const msg = "llmedge is shutting down: the stream was cut at the end of its grace period; retry the request"
		var buf [512]byte
		var ev []byte
		if c.req.Anthropic != nil {
			ev = errbody.AppendAnthropicEvent(buf[:0], "api_error", msg)
		} else {
			ev = upstream.AppendStreamError(buf[:0], c.req.Route, &upstream.Error{Status: fasthttp.StatusServiceUnavailable,
				Type: "api_error", Code: "server_shutting_down", Message: msg})
		}
		if _, err := w.Write(ev); err != nil {
			return upstream.ErrClientGone
		}
		if w.Flush() != nil {
			return upstream.ErrClientGone
		}
	}
	return observe.ErrStreamCut
}

// isCancel reports whether err is a call stopped by its Cancel (the
// relay's ErrCanceled, or the router's 499 before the first event).
func isCancel(err error) bool {
	var ue *upstream.Error
	return errors.Is(err, upstream.ErrCanceled) || (errors.As(err, &ue) && ue.Status == 499)
}
