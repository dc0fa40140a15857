package provider

import (
	"strings"
	"testing"

	"github.com/llmedge/llmedge/internal/allocs"
	"github.com/llmedge/llmedge/sse"
)

// BenchmarkScrubErrorEventChunk is what the error-event check adds to
// each relayed stream event that is not an error.
func BenchmarkScrubErrorEventChunk(b *testing.B) {
	d := &Endpoint{Key: "0123456789abcdef"}
	data := []byte(`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}`)
	ev := sse.Event{Raw: append(append([]byte("data: "), data...), "\n\n"...), Data: data}
	b.ReportAllocs()
	for b.Loop() {
		_ = d.ScrubErrorEvent(&ev)
	}
}

// Checking a relayed event that is not an error allocates nothing.
func TestScrubErrorEventChunkAllocs(t *testing.T) {
	d := &Endpoint{Key: "0123456789abcdef"}
	data := []byte(`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}`)
	ev := sse.Event{Raw: append(append([]byte("data: "), data...), "\n\n"...), Data: data}
	allocs.None(t, "the error-event check of a chunk", 1000, func() { _ = d.ScrubErrorEvent(&ev) })
}

func TestScrubKeyShapes(t *testing.T) {
	in := `bad key sk-proj-abcdefghijklmnopqrstuvwxyz0123 and sk-ant-api03-ABCDEFGHIJKLMNOPQRST, AIzaSyA1234567890abcdefghijklmnopqrstuv; AKIAIOSFODNN7EXAMPLE "Authorization: Bearer abcdefghijklmnopqrstu" task-force-alpha sk-short`
	out := string(ScrubSecrets([]byte(in), []string{"secret-value-1"}))
	for _, leak := range []string{"sk-proj-", "sk-ant-", "AIzaSy", "AKIAIOSF", "abcdefghijklmnopqrstu"} {
		if strings.Contains(out, leak) {
			t.Errorf("%s left in %s", leak, out)
		}
	}
	for _, keep := range []string{"task-force-alpha", "sk-short", "Bearer [REDACTED]", "bad key [REDACTED] and"} {
		if !strings.Contains(out, keep) {
			t.Errorf("%q mangled: %s", keep, out)
		}
	}
	if got := string(ScrubSecrets([]byte("x secret-value-1 y"), []string{"secret-value-1"})); got != "x [REDACTED] y" {
		t.Fatal(got)
	}
	clean := []byte("nothing to see")
	if &ScrubSecrets(clean, nil)[0] != &clean[0] {
		t.Fatal("clean text copied")
	}
}
