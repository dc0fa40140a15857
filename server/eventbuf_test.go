package server

import (
	"bytes"
	"io"
	"testing"
	"time"
)

// A stream holds an event buffer only between Write and Flush: while it
// waits for the upstream it holds none.
func TestEventBufHeldOnlyWhileWriting(t *testing.T) {
	var out bytes.Buffer
	c := &call{}
	c.out.deadline = time.Now().Add(time.Hour) // no deadline to move
	b := &streamBody{out: &out, c: c}
	if b.buf.b != nil {
		t.Fatal("a buffer before the first event")
	}
	for range 3 {
		_, _ = b.Write([]byte("data: a\n\n"))
		_, _ = b.Write([]byte("data: b\n\n"))
		if b.buf.b == nil {
			t.Fatal("no buffer while events wait")
		}
		if err := b.Flush(); err != nil {
			t.Fatal(err)
		}
		if b.buf.b != nil {
			t.Fatal("buffer still held after the flush")
		}
	}
	if out.String() != "data: a\n\ndata: b\n\ndata: a\n\ndata: b\n\ndata: a\n\ndata: b\n\n" {
		t.Fatalf("wrote %q", out.String())
	}
	// A burst bigger than the pooled size is written whole and not pooled.
	big := bytes.Repeat([]byte("x"), maxPooledEventBuf+1)
	_, _ = b.Write(big)
	out.Reset()
	if err := b.Flush(); err != nil || !bytes.Equal(out.Bytes(), big) || b.buf.b != nil {
		t.Fatalf("big burst: %d bytes written, err %v", out.Len(), err)
	}
}

// chunkRecorder keeps every Write as one chunk (fasthttp's chunked
// writer makes each Write one HTTP chunk).
type chunkRecorder struct{ chunks []string }

func (r *chunkRecorder) Write(p []byte) (int, error) {
	r.chunks = append(r.chunks, string(p))
	return len(p), nil
}

// The last event of a burst goes out with the burst as one chunk; an
// event that came alone goes out as it is, without taking a buffer.
func TestStreamBodyWriteFlush(t *testing.T) {
	var out chunkRecorder
	c := &call{}
	c.out.deadline = time.Now().Add(time.Hour) // no deadline to move
	b := &streamBody{out: &out, c: c}
	lone := []byte("data: lone\n\n")
	if err := b.WriteFlush(lone); err != nil {
		t.Fatal(err)
	}
	if b.buf.b != nil {
		t.Fatal("a lone event took a buffer")
	}
	_, _ = b.Write([]byte("data: a\n\n"))
	if err := b.WriteFlush([]byte("data: b\n\n")); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteFlush(nil); err != nil {
		t.Fatal(err)
	}
	if b.buf.b != nil {
		t.Fatal("buffer still held after the burst")
	}
	want := []string{"data: lone\n\n", "data: a\n\ndata: b\n\n"}
	if len(out.chunks) != 2 || out.chunks[0] != want[0] || out.chunks[1] != want[1] {
		t.Fatalf("chunks %q, want %q", out.chunks, want)
	}
}

// BenchmarkStreamBodyLoneEvent is one event that came alone handed to
// the client: WriteFlush (what the relay calls) against Write then
// Flush (the buffered path, as every event took before).
func BenchmarkStreamBodyLoneEvent(b *testing.B) {
	ev := benchChunks[0]
	for _, mode := range []string{"WriteFlush", "Write+Flush"} {
		b.Run(mode, func(b *testing.B) {
			c := &call{}
			c.out.deadline = time.Now().Add(time.Hour)
			sb := &streamBody{out: io.Discard, c: c}
			b.ReportAllocs()
			for b.Loop() {
				if mode == "WriteFlush" {
					_ = sb.WriteFlush(ev)
				} else {
					_, _ = sb.Write(ev)
					_ = sb.Flush()
				}
			}
		})
	}
}
