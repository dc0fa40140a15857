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
// Lines are handed to a flusher goroutine when the buffer fills and at
// most flushEvery after they were written; Flush and Close write what
// is buffered before they return.
//
// The request that fills the buffer does not write it: it swaps in the
// spare buffer and goes on, and the flusher writes the full one. So no
// request waits for the destination (a 64 KiB write, or a pipe whose
// reader is behind), and no other request's line waits on the lock
// meanwhile; and the sink's raw write (logsink_linux.go), which holds
// its P for as long as it takes, runs on the flusher (but for a line
// longer than the buffer, and lines written after Close). Lines still
// reach out in the order they were written: there is one flusher, and
// the spare comes back only once its buffer is written.
type logWriter struct {
	mu     sync.Mutex
	idle   sync.Cond // signalled when the flusher gives back the spare
	out    io.Writer
	buf    []byte // lines not yet handed over
	spare  []byte // nil while the flusher writes it
	limit  int
	timer  *time.Timer
	every  time.Duration
	full   chan []byte // to the flusher; at most one buffer is in it or being written
	done   chan struct{}
	closed bool // by Close: later lines are written at once
}

func newLogWriter(out io.Writer, limit int, every time.Duration) *logWriter {
	w := &logWriter{out: out, buf: make([]byte, 0, limit), spare: make([]byte, 0, limit), limit: limit, every: every,
		full: make(chan []byte, 1), done: make(chan struct{})}
	w.idle.L = &w.mu
	w.timer = time.AfterFunc(time.Hour, w.flushTimer)
	w.timer.Stop()
	go w.flusher()
	return w
}

// Write appends one log record; slog writes each record in one call.
func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf)+len(p) > w.limit {
		w.handOffLocked()
	}
	if w.closed || len(p) >= w.limit {
		// After Close (which may have come while the hand-off
		// waited), or longer than a buffer: written now, after what
		// came before.
		w.waitIdleLocked()
		return w.out.Write(p)
	}
	if len(w.buf) == 0 {
		w.timer.Reset(w.every)
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// handOffLocked gives the buffered lines to the flusher, waiting for
// the spare if the flusher is still writing the last batch (the lines
// come faster than out takes them: they wait rather than pile up).
func (w *logWriter) handOffLocked() {
	// Close may come while this waits: then it has handed the lines
	// off itself and closed the flusher's channel.
	for len(w.buf) > 0 && !w.closed {
		if w.spare != nil {
			w.full <- w.buf
			w.buf, w.spare = w.spare, nil
			return
		}
		w.idle.Wait()
	}
}

// waitIdleLocked hands off what is buffered and waits until the flusher
// has written it, so that a write to out made next comes after it.
// Lines written while it waits are handed off and waited for too.
func (w *logWriter) waitIdleLocked() {
	for {
		w.handOffLocked()
		for w.spare == nil {
			w.idle.Wait()
		}
		if len(w.buf) == 0 || w.closed {
			return
		}
	}
}

func (w *logWriter) flusher() {
	defer close(w.done)
	for b := range w.full {
		_, _ = w.out.Write(b)
		w.mu.Lock()
		w.spare = b[:0]
		w.idle.Broadcast()
		w.mu.Unlock()
	}
}

func (w *logWriter) flushTimer() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.handOffLocked()
}

// Flush writes what is buffered before it returns.
func (w *logWriter) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.waitIdleLocked()
	return nil
}

// Close flushes what is buffered and stops the flusher; lines written
// after it go straight to out.
func (w *logWriter) Close() error {
	w.timer.Stop()
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.waitIdleLocked()
	w.closed = true
	close(w.full)
	w.mu.Unlock()
	<-w.done
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
