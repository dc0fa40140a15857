package main

import (
	"bytes"
	"log/slog"
	"strconv"
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
	_, _ = w.Write(line) // does not fit: the first goes to the flusher
	deadline := time.Now().Add(2 * time.Second)
	for {
		s, n := out.snapshot()
		if n == 1 && s == string(line) {
			return
		}
		if n > 1 || time.Now().After(deadline) {
			t.Fatalf("full buffer not flushed alone within 2s: %d writes %q", n, s)
		}
		time.Sleep(time.Millisecond)
	}
}

// gatedWriter blocks every Write until the test opens the gate.
type gatedWriter struct {
	lockedBuf
	gate    chan struct{}
	entered chan struct{}
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	g.entered <- struct{}{}
	<-g.gate
	return g.lockedBuf.Write(p)
}

// The request that fills the buffer does not wait for the write: a
// slow log destination (a full pipe, a disk) held every request's
// access line for the length of the write when the buffer was written
// under the lock.
func TestLogWriterDoesNotHoldWritersWhileFlushing(t *testing.T) {
	out := &gatedWriter{gate: make(chan struct{}), entered: make(chan struct{}, 16)}
	w := newLogWriter(out, 64, time.Hour)
	line := []byte(strings.Repeat("x", 40) + "\n")
	_, _ = w.Write(line)
	_, _ = w.Write(line) // hands the first to the flusher
	select {
	case <-out.entered:
	case <-time.After(2 * time.Second):
		t.Fatal("the flusher did not start writing within 2s")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = w.Write([]byte("y\n")) // fits beside the second line
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("a Write waited for the flusher's blocked write")
	}
	close(out.gate)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if s, _ := out.snapshot(); s != string(line)+string(line)+"y\n" {
		t.Fatalf("lines lost or out of order: %q", s)
	}
}

// Lines reach the destination whole and in the order they were
// written, with many writers and a destination slower than they are.
func TestLogWriterKeepsOrderUnderLoad(t *testing.T) {
	out := &slowBuf{}
	w := newLogWriter(out, 512, time.Millisecond)
	const writers, lines = 8, 400
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				_, _ = w.Write([]byte(strings.Repeat(string(rune('a'+g)), 1+i%40) + "|" + strconv.Itoa(i) + "\n"))
				if i%97 == 0 {
					_ = w.Flush()
				}
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("after close\n")) // written at once, not lost
	s, _ := out.snapshot()
	next := make([]int, writers)
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if l == "after close" {
			continue
		}
		head, num, ok := strings.Cut(l, "|")
		g := int(head[0] - 'a')
		i, err := strconv.Atoi(num)
		if !ok || err != nil || g < 0 || g >= writers || head != strings.Repeat(head[:1], 1+i%40) {
			t.Fatalf("torn line %q", l)
		}
		if i != next[g] {
			t.Fatalf("writer %d: line %d after line %d", g, i, next[g]-1)
		}
		next[g]++
	}
	for g, n := range next {
		if n != lines {
			t.Fatalf("writer %d: %d of %d lines", g, n, lines)
		}
	}
	if !strings.HasSuffix(s, "after close\n") {
		t.Fatal("a line written after Close was lost")
	}
}

// slowBuf takes a while over each write, as a busy disk or pipe does.
type slowBuf struct{ lockedBuf }

func (b *slowBuf) Write(p []byte) (int, error) {
	time.Sleep(200 * time.Microsecond)
	return b.lockedBuf.Write(p)
}

// Close may come while the timer's flush (or a Write) waits for the
// flusher to give back its buffer: the waiter must then leave the lines
// to Close, not hand them to the flusher Close has stopped ("send on
// closed channel"), and a line written then goes out at once.
func TestLogWriterCloseWhileAFlushWaits(t *testing.T) {
	line := []byte(strings.Repeat("x", 40) + "\n")
	for i := range 40 {
		out := &gatedWriter{gate: make(chan struct{}), entered: make(chan struct{}, 16)}
		w := newLogWriter(out, 64, time.Millisecond)
		_, _ = w.Write(line)
		_, _ = w.Write(line) // the first to the flusher, which blocks in out
		<-out.entered
		time.Sleep(3 * time.Millisecond) // the timer's flush now waits for the spare
		wrote := make(chan struct{})
		go func() {
			defer close(wrote)
			_, _ = w.Write(line) // waits too: the buffer is full
		}()
		closed := make(chan error)
		go func() { closed <- w.Close() }()
		time.Sleep(time.Millisecond)
		close(out.gate)
		select {
		case err := <-closed:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("run %d: Close did not return within 5s", i)
		}
		select {
		case <-wrote:
		case <-time.After(5 * time.Second):
			t.Fatalf("run %d: a Write waiting at Close did not return within 5s", i)
		}
		if s, _ := out.snapshot(); s != strings.Repeat(string(line), 3) {
			t.Fatalf("run %d: %d bytes out, not the 3 lines", i, len(s))
		}
	}
}
