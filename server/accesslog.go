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
	prompt, completion int
	reason             string // why it was refused before any upstream
	err                error  // a stream that failed after it started
}

// logAccess writes e as one "request" line at info level. Attributes
// go through LogAttrs from a fixed array: with the standard handlers
// the line costs the two []byte->string copies and slog's own record.
func (s *Server) logAccess(e *accessEntry) {
	log := s.opts.Logger
	ctx := context.Background()
	if !log.Enabled(ctx, slog.LevelInfo) {
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
	add(slog.Float64("ttfb_ms", millis(e.ttfb)))
	add(slog.Float64("duration_ms", millis(e.duration)))
	add(slog.Float64("overhead_ms", millis(e.overhead)))
	add(slog.Float64("upstream_ms", millis(e.upstream)))
	add(slog.Int("prompt_tokens", e.prompt))
	add(slog.Int("completion_tokens", e.completion))
	if e.reason != "" {
		add(slog.String("rejected", e.reason))
	}
	if e.err != nil {
		add(slog.String("error", e.err.Error()))
	}
	log.LogAttrs(ctx, slog.LevelInfo, "request", a[:n]...)
}

// millis is d in milliseconds rounded to microseconds.
func millis(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}
