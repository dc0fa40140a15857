package main

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuf struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuf) snapshot() (string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String(), l.writes
}

func TestLogWriterBatchesInfoAndFlushesWarnAtOnce(t *testing.T) {
	out := &lockedBuf{}
	w := newLogWriter(out, 1<<10, time.Hour)
	log := slog.New(flushOnWarn{slog.NewTextHandler(w, nil), w})
	for i := 0; i < 5; i++ {
		log.Info("request", "n", i)
	}
	if s, n := out.snapshot(); n != 0 || s != "" {
		t.Fatalf("info lines written before a flush: %d writes", n)
	}
	log.Warn("upstream down")
	s, n := out.snapshot()
	if n != 1 || strings.Count(s, "msg=request") != 5 || !strings.Contains(s, "upstream down") {
		t.Fatalf("warn did not flush everything in one write: %d writes\n%s", n, s)
	}
	log.Info("last")
	w.Close()
	if s, _ := out.snapshot(); !strings.Contains(s, "msg=last") {
		t.Fatal("Close did not flush")
	}
}

func TestLogWriterFlushesAfterInterval(t *testing.T) {
	out := &lockedBuf{}
	w := newLogWriter(out, 1<<10, 20*time.Millisecond)
	defer w.Close()
	_, _ = w.Write([]byte("line\n"))
	deadline := time.Now().Add(2 * time.Second)
	for {
		if s, _ := out.snapshot(); s == "line\n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("buffered line not flushed within 2s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLogWriterFlushesWhenFull(t *testing.T) {
	out := &lockedBuf{}
	w := newLogWriter(out, 64, time.Hour)
	defer w.Close()
	line := []byte(strings.Repeat("x", 40) + "\n")
	_, _ = w.Write(line)
	_, _ = w.Write(line) // does not fit: the first goes out
	if s, n := out.snapshot(); n != 1 || s != string(line) {
		t.Fatalf("full buffer not flushed: %d writes %q", n, s)
	}
}
