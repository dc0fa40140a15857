package server

import (
	"bytes"
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
