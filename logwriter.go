package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logWriter batches log lines: one request = one access-log line, and a
// write syscall per line would cost more CPU than proxying the request.
// Lines are flushed when the buffer fills and at most flushEvery after
// they were written, and by Close at exit.
type logWriter struct {
	mu    sync.Mutex
	out   io.Writer
	buf   []byte
	limit int
	timer *time.Timer
	every time.Duration
}

func newLogWriter(out io.Writer, limit int, every time.Duration) *logWriter {
	w := &logWriter{out: out, buf: make([]byte, 0, limit), limit: limit, every: every}
	w.timer = time.AfterFunc(time.Hour, w.flushTimer)
	w.timer.Stop()
	return w
}

// Write appends one log record; slog writes each record in one call.
func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf)+len(p) > w.limit {
		w.flushLocked()
	}
	if len(p) >= w.limit {
		return w.out.Write(p)
	}
	if len(w.buf) == 0 {
		w.timer.Reset(w.every)
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *logWriter) flushTimer() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushLocked()
}

func (w *logWriter) flushLocked() {
	if len(w.buf) == 0 {
		return
	}
	_, _ = w.out.Write(w.buf)
	w.buf = w.buf[:0]
}

// Close flushes what is buffered.
func (w *logWriter) Close() error {
	w.timer.Stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushLocked()
	return nil
}

// flushOnWarn flushes the log writer after every record at Warn or
// above, so problems are visible at once while the per-request Info
// lines stay batched.
type flushOnWarn struct {
	slog.Handler
	w *logWriter
}

func (h flushOnWarn) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		_ = h.w.Flush()
	}
	return err
}

func (h flushOnWarn) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushOnWarn{h.Handler.WithAttrs(attrs), h.w}
}

func (h flushOnWarn) WithGroup(name string) slog.Handler {
	return flushOnWarn{h.Handler.WithGroup(name), h.w}
}

// Flush writes what is buffered now.
func (w *logWriter) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushLocked()
	return nil
}
