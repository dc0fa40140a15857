package observe

import (
	"context"
	"log/slog"
	"time"
	"unsafe"
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
	backoff            time.Duration // slept between attempts (omitted when 0)
	prompt, completion int64
	cost               float64 // USD, 0 when the deployment has no price
	reason             string  // why it was refused before any upstream
	cache              string  // x-llmedge-cache: hit, miss, bypass ("" = cache off)
	err                error   // a stream that failed after it started
}

// maxAccessAttrs bounds accessAttrs' output (14 always, 5 optional).
const maxAccessAttrs = 19

// logAccess writes e as one "request" line at info level, timed now
// (the caller's clock reading: the call's end), if Logger has info
// enabled. With Options.AccessLogOut set the line is formatted in
// place (accesslog_line.go: no slog record, no allocation); otherwise
// the record goes straight to Logger's handler (no caller lookup: an
// access line has no useful source position).
func (r *Recorder) logAccess(now time.Time, e *accessEntry) {
	h := r.opts.Logger.Handler()
	ctx := context.Background()
	if !h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	if w := r.opts.AccessLogOut; w != nil {
		writeAccessLine(w, r.opts.AccessLogJSON, now, e)
		return
	}
	_ = h.Handle(ctx, accessRecord(now, e))
}

// accessRecord is e as the slog record the standard handlers print.
// The ids are copied: a handler may keep the record past the request.
func accessRecord(t time.Time, e *accessEntry) slog.Record {
	var a [maxAccessAttrs]slog.Attr
	r := slog.NewRecord(t, slog.LevelInfo, "request", 0)
	r.AddAttrs(accessAttrs(a[:0], e, string(e.reqID), string(e.userID))...)
	return r
}

// accessAttrs appends the line's fields, in order, to a. It is the one
// list both the slog and the in-place path print. Durations are integer
// microseconds; every value is a string, an int64, a bool or (the
// cost) a float64.
func accessAttrs(a []slog.Attr, e *accessEntry, reqID, userID string) []slog.Attr {
	a = append(a,
		slog.String("request_id", reqID),
		slog.String("model_name", e.model),
		slog.String("deployment", e.deployment))
	if userID != "" {
		a = append(a, slog.String("user_id", userID))
	}
	if e.key != "" {
		a = append(a, slog.String("key", e.key))
	}
	a = append(a,
		slog.Int("status", e.status),
		slog.Bool("stream", e.stream),
		slog.Int("attempts", e.attempts),
		slog.Int64("ttfb_us", e.ttfb.Microseconds()),
		slog.Int64("duration_us", e.duration.Microseconds()),
		slog.Int64("overhead_us", e.overhead.Microseconds()),
		slog.Int64("upstream_us", e.upstream.Microseconds()),
		slog.Int64("prompt_tokens", e.prompt),
		slog.Int64("completion_tokens", e.completion))
	if e.backoff > 0 {
		a = appendBackoff(a, e.backoff)
	}
	if e.cost > 0 {
		a = append(a, slog.Float64("cost_usd", e.cost))
	}
	if e.cache != "" {
		a = append(a, slog.String("cache", e.cache))
	}
	if e.reason != "" {
		a = append(a, slog.String("rejected", e.reason))
	}
	if e.err != nil {
		a = append(a, slog.String("error", e.err.Error()))
	}
	return a
}

// bytesView is b as a string without copying, for formatting within
// one call while b is not written.
func bytesView(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// appendBackoff adds the time slept between attempts: rare, so kept out
// of accessAttrs' frame (a stream's access record is written on its
// connection's stack: server/stack_test.go).
//
//go:noinline
func appendBackoff(a []slog.Attr, backoff time.Duration) []slog.Attr {
	return append(a, slog.Int64("backoff_us", backoff.Microseconds()))
}
