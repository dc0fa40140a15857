package server

import (
	"context"
	"log/slog"
	"time"
)

// accessEntry is one access-log line: facts about a request, never its
// content or a secret. key is the key's configured name, not the key.
type accessEntry struct {
	reqID, userID      []byte
	model, deployment  string
	key                string
	status             int
	stream             bool
	attempts           int
	ttfb, duration     time.Duration
	overhead, upstream time.Duration
	prompt, completion int64
	reason             string // why it was refused before any upstream
	err                error  // a stream that failed after it started
}

// logAccess writes e as one "request" line at info level. The record
// goes straight to the handler (no caller lookup: an access line has no
// useful source position); durations are integer microseconds, which
// slog formats without allocating, unlike floats. With the standard
// handlers a line costs the []byte->string copies and slog's attribute
// slice.
func (s *Server) logAccess(e *accessEntry) {
	h := s.opts.Logger.Handler()
	ctx := context.Background()
	if !h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	var a [18]slog.Attr
	n := 0
	add := func(at slog.Attr) { a[n] = at; n++ }
	add(slog.String("request_id", string(e.reqID)))
	add(slog.String("model_name", e.model))
	add(slog.String("deployment", e.deployment))
	if len(e.userID) > 0 {
		add(slog.String("user_id", string(e.userID)))
	}
	if e.key != "" {
		add(slog.String("key", e.key))
	}
	add(slog.Int("status", e.status))
	add(slog.Bool("stream", e.stream))
	add(slog.Int("attempts", e.attempts))
	add(slog.Int64("ttfb_us", e.ttfb.Microseconds()))
	add(slog.Int64("duration_us", e.duration.Microseconds()))
	add(slog.Int64("overhead_us", e.overhead.Microseconds()))
	add(slog.Int64("upstream_us", e.upstream.Microseconds()))
	add(slog.Int64("prompt_tokens", e.prompt))
	add(slog.Int64("completion_tokens", e.completion))
	if e.reason != "" {
		add(slog.String("rejected", e.reason))
	}
	if e.err != nil {
		add(slog.String("error", e.err.Error()))
	}
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
	r.AddAttrs(a[:n]...)
	_ = h.Handle(ctx, r)
}
