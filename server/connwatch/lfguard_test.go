package connwatch

import (
	"testing"

	"github.com/llmedge/llmedge/internal/allocs"
)

// BenchmarkHeadScan is lfConn's cost on a typical SDK request head
// (about 400 bytes): the scan each request pays.
func BenchmarkHeadScan(b *testing.B) {
	head := []byte("POST /v1/chat/completions HTTP/1.1\r\nHost: llmedge.local\r\nUser-Agent: OpenAI/Python 1.109.1\r\nAccept: application/json\r\n" +
		"Accept-Encoding: gzip, deflate\r\nAuthorization: Bearer sk-master-test-1234\r\nContent-Type: application/json\r\n" +
		"X-Stainless-Lang: python\r\nX-Stainless-Package-Version: 1.109.1\r\nX-Stainless-Os: Linux\r\nX-Stainless-Arch: x64\r\n" +
		"X-Stainless-Runtime: CPython\r\nX-Stainless-Runtime-Version: 3.12.3\r\nX-Stainless-Retry-Count: 0\r\nContent-Length: 97\r\n\r\n" +
		`{"messages":[{"role":"user","content":"What is the weather in Paris today?"}],"model":"m","temperature":0.2}`)
	c := &lfConn{}
	b.ReportAllocs()
	b.SetBytes(int64(len(head)))
	for b.Loop() {
		c.head, c.bad, c.last = true, false, [3]byte{}
		c.scan(head)
	}
	if c.head || c.bad {
		b.Fatal("head end not found")
	}
}

func TestHeadScanAllocs(t *testing.T) {
	head := []byte("POST /v1/chat/completions HTTP/1.1\r\nHost: llmedge.local\r\nContent-Length: 2\r\n\r\n{}")
	c := &lfConn{}
	allocs.None(t, "the bare-LF guard's head scan", 1000, func() {
		c.head, c.bad, c.last = true, false, [3]byte{}
		c.scan(head)
	})
}
