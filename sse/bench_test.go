package sse

import (
	"io"
	"strings"
	"testing"
)

// loopReader serves block forever, in reads of at most chunk bytes, like a
// long-lived upstream connection.
type loopReader struct {
	block []byte
	off   int
	chunk int
}

func (r *loopReader) Read(b []byte) (int, error) {
	if r.off == len(r.block) {
		r.off = 0
	}
	n := copy(b[:min(len(b), r.chunk)], r.block[r.off:])
	r.off += n
	return n, nil
}

func benchScanner(b *testing.B, block string, readSize int) {
	r := &loopReader{block: []byte(block), chunk: readSize}
	s := NewScanner(r, 0)
	n := strings.Count(block, "\n\n")
	b.SetBytes(int64(len(block) / n))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Next(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScannerNext scans an OpenAI chat.completion.chunk stream, one
// event per op, with 4 KiB reads (many events per read).
func BenchmarkScannerNext(b *testing.B) {
	benchScanner(b, strings.Repeat(chunk, 100), 4096)
}

// Network-sized reads: about one event per read, mostly split mid-event.
func BenchmarkScannerNextSmallReads(b *testing.B) {
	benchScanner(b, strings.Repeat(chunk, 100), 173)
}

func BenchmarkScannerNextMultiLine(b *testing.B) {
	benchScanner(b, strings.Repeat("event: content_block_delta\ndata: {\"a\":1}\ndata: {\"b\":2}\ndata: {\"c\":3}\n\n", 100), 4096)
}

func BenchmarkAppendData(b *testing.B) {
	data := []byte(strings.TrimSuffix(strings.TrimPrefix(chunk, "data: "), "\n\n"))
	dst := make([]byte, 0, 1024)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendData(dst[:0], data)
	}
}

var _ io.Reader = (*loopReader)(nil)
