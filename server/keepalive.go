package server

import (
	"bufio"
	"errors"
	"sync"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/sse"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// keepaliveInterval reads general_settings.stream_keepalive_seconds
// (0 or absent: no pings). Fractions are allowed.
func keepaliveInterval(cfg *config.Config) time.Duration {
	if cfg == nil {
		return 0
	}
	var f float64
	switch v := cfg.General.Raw["stream_keepalive_seconds"].(type) {
	case int:
		f = float64(v)
	case int64:
		f = float64(v)
	case uint64:
		f = float64(v)
	case float64:
		f = v
	}
	if f <= 0 || f > 3600 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

var pingEvent = []byte(": ping\n\n")

// streamWithKeepalive serves a stream request when keepalive pings are
// configured. Load balancers cut connections that stay silent (60 s on
// AWS ALB by default) while a reasoning model thinks, so the response
// is committed at once (200, SSE headers flushed) and the router runs
// inside the stream writer while ": ping" comments go out whenever the
// client heard nothing for the interval. The price: a failure before
// the first event can no longer change the status; it becomes an SSE
// error event and a clean end, and the x-llmedge-model-id and
// x-llmedge-attempts headers are not sent (they are not known yet).
func (s *Server) streamWithKeepalive(ctx *fasthttp.RequestCtx, c *chatCall, g *upstream.Group) {
	ctx.Response.Header.SetBytesV("X-Request-Id", c.reqID)
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.Header.SetContentType("text/event-stream")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.Response.Header.Set("X-Accel-Buffering", "no")
	ctx.Response.ImmediateHeaderFlush = true
	every := s.keepalive
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		pw := &pingWriter{w: w, last: time.Now(), stop: make(chan struct{}), cancel: &c.cancel}
		pw.wg.Add(1)
		go pw.run(every)
		resp := upstream.AcquireResponse()
		err := s.reg.Chat(g, &c.req, resp)
		switch {
		case err != nil:
			pw.writeError(err)
		case resp.Stream == nil:
			pw.writeError(&upstream.Error{Status: 502, Type: "api_error", Code: "upstream_not_streaming",
				Message: "the upstream answered a stream request with a non-stream body"})
		default:
			_ = resp.Stream.Relay(pw)
		}
		pw.close()
		s.finish(ctx, c, resp)
	})
}

// pingWriter is the client writer shared by the relay and the pinger.
type pingWriter struct {
	mu     sync.Mutex
	w      *bufio.Writer
	last   time.Time
	failed bool
	stop   chan struct{}
	wg     sync.WaitGroup
	cancel *upstream.Cancel
}

func (p *pingWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last = time.Now()
	n, err := p.w.Write(b)
	if err != nil {
		p.failed = true
	}
	return n, err
}

func (p *pingWriter) Flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.w.Flush()
	if err != nil {
		p.failed = true
	}
	return err
}

func (p *pingWriter) run(every time.Duration) {
	defer p.wg.Done()
	t := time.NewTicker(max(every/4, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			if !p.ping(every) {
				// The client is gone: stop the upstream too.
				p.cancel.Cancel()
				return
			}
		}
	}
}

// ping writes a comment when nothing was written for idle; false when
// the client cannot be written to.
func (p *pingWriter) ping(idle time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failed {
		return false
	}
	if idle > 0 && time.Since(p.last) < idle {
		return true
	}
	p.last = time.Now()
	if _, err := p.w.Write(pingEvent); err != nil {
		p.failed = true
		return false
	}
	if err := p.w.Flush(); err != nil {
		p.failed = true
		return false
	}
	return true
}

// writeError ends the stream with an error event (the upstream's own
// error object when it has one) and [DONE].
func (p *pingWriter) writeError(err error) {
	var ue *upstream.Error
	if !errors.As(err, &ue) {
		ue = &upstream.Error{Status: 502, Type: "api_error", Code: "upstream_error", Message: "upstream failure"}
	}
	if ue.Status == 499 {
		return
	}
	b := make([]byte, 0, 512)
	b = append(b, "data: "...)
	start := len(b)
	b = ue.AppendJSON(b)
	// A pretty-printed upstream body would break the data line; JSON
	// whitespace may become spaces without changing the document.
	for i := start; i < len(b); i++ {
		if b[i] == '\n' || b[i] == '\r' {
			b[i] = ' '
		}
	}
	b = append(b, "\n\n"...)
	b = append(b, sse.Done...)
	_, _ = p.Write(b)
	_ = p.Flush()
}

func (p *pingWriter) close() {
	close(p.stop)
	p.wg.Wait()
}
