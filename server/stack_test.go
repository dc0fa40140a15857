package server

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/llmedge/llmedge/upstream"
)

// A streaming request holds its connection goroutine for the whole
// stream: if any moment of the request (scan, upstream call, relay,
// access log) needs more than 8 KiB of stack, the goroutine keeps a
// 16 KiB stack for the stream's life (the GC halves a stack only when
// under a quarter of it is in use, and the relay uses more). At 10,000
// streams that is 80 MB of stack more. These tests serve one request on
// a goroutine whose stack was grown to exactly 8 KiB beforehand, with
// stackSpare bytes of frames above fasthttp's ServeConn, and check that
// the stack never moved (Go moves a stack only to grow or shrink it;
// the GC, which shrinks, is off during the test).

// stackSpare is the headroom the serving path must leave in an 8 KiB
// stack: room for the frames production has above ServeConn (fasthttp's
// worker pool) and for modest growth of the path.
const stackSpare = 1 << 10

// stackPadFrame is one level of padStack; its frame is a little more
// than len(pad).
type stackPadFrame struct{ pad [120]byte }

var stackSink byte

// padStack calls f under n frames of about 128 bytes each.
//
//go:noinline
func padStack(n int, f func()) {
	var p stackPadFrame
	p.pad[n%len(p.pad)] = byte(n)
	if n <= 0 {
		f()
	} else {
		padStack(n-1, f)
	}
	stackSink += p.pad[(n+1)%len(p.pad)]
}

// stackPadLevel is the stack one level of padStack takes.
func stackPadLevel() int {
	var top, bottom uintptr
	padStack(1, func() {
		var b byte
		bottom = uintptr(unsafe.Pointer(&b))
	})
	padStack(0, func() {
		var b byte
		top = uintptr(unsafe.Pointer(&b))
	})
	return int(top - bottom)
}

// growTo8K makes the calling goroutine's stack 8 KiB (from the 2 KiB a
// goroutine starts with): a 6 KiB frame does not fit in 4 KiB.
//
//go:noinline
func growTo8K() {
	var b [6 << 10]byte
	b[int(stackSink)%len(b)] = 1
	stackSink += b[(int(stackSink)+1)%len(b)]
}

// growTo16K makes the calling goroutine's stack 16 KiB.
//
//go:noinline
func growTo16K() {
	var b [14 << 10]byte
	b[int(stackSink)%len(b)] = 1
	stackSink += b[(int(stackSink)+1)%len(b)]
}

// stackStays runs f on a fresh goroutine with an 8 KiB stack, under
// about pad bytes of frames, and reports whether f ran without the stack
// growing. GC is off meanwhile so that it cannot shrink (move) it.
func stackStays(t *testing.T, pad int, f func()) bool {
	return stackStaysIn(t, growTo8K, pad, f)
}

func stackStaysIn(t *testing.T, grow func(), pad int, f func()) bool {
	t.Helper()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	res := make(chan bool, 1)
	go func() {
		var marker byte
		grow()
		before := uintptr(unsafe.Pointer(&marker))
		padStack(pad/stackPadLevel(), f)
		res <- before == uintptr(unsafe.Pointer(&marker))
	}()
	select {
	case ok := <-res:
		return ok
	case <-time.After(20 * time.Second):
		t.Fatal("timed out waiting for the probed goroutine")
		return false
	}
}

// deepCall uses about n bytes of stack.
//
//go:noinline
func deepCall(n int) {
	if n <= 0 {
		return
	}
	var p stackPadFrame
	p.pad[n%len(p.pad)] = 1
	deepCall(n - len(p.pad) - 8)
	stackSink += p.pad[(n+1)%len(p.pad)]
}

// TestStackProbe checks the probe itself: nothing grows an 8 KiB stack
// that is barely used; 8 KiB of frames does.
func TestStackProbe(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes frame sizes and stack guards")
	}
	if !stackStays(t, stackSpare, func() { deepCall(2 << 10) }) {
		t.Fatal("probe: 3 KiB of frames grew an 8 KiB stack")
	}
	if stackStays(t, stackSpare, func() { deepCall(8 << 10) }) {
		t.Fatal("probe: 9 KiB of frames did not grow an 8 KiB stack")
	}
}

// streamOnProbedConn serves one streaming chat request, raw HTTP with
// Connection: close, on a connection served by ServeConn inside
// stackStays, and reports whether the stack stayed at 8 KiB. The
// response must be a complete 200 SSE stream.
func streamOnProbedConn(t *testing.T, srv *Server, pad int, body string) bool {
	t.Helper()
	return streamOnProbedConnIn(t, srv, growTo8K, pad, body)
}

func streamOnProbedConnIn(t *testing.T, srv *Server, grow func(), pad int, body string) bool {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	_ = client.SetDeadline(time.Now().Add(20 * time.Second))
	var sc net.Conn
	select {
	case sc = <-accepted:
	case <-time.After(10 * time.Second):
		t.Fatal("accept timed out")
	}
	if sc == nil {
		t.Fatal("accept failed")
	}
	req := "POST /v1/chat/completions HTTP/1.1\r\nHost: llmedge\r\nAuthorization: Bearer " + testMasterKey +
		"\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + itoa(len(body)) + "\r\n\r\n" + body
	if _, err := io.WriteString(client, req); err != nil {
		t.Fatal(err)
	}
	var resp []byte
	readErr := make(chan error, 1)
	go func() {
		var err error
		resp, err = io.ReadAll(bufio.NewReader(client))
		readErr <- err
	}()
	stayed := stackStaysIn(t, grow, pad, func() { _ = srv.srv.ServeConn(sc) })
	if err := <-readErr; err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	if !bytes.HasPrefix(resp, []byte("HTTP/1.1 200")) || !bytes.Contains(resp, []byte("data: [DONE]")) {
		t.Fatalf("not a complete stream:\n%s", resp)
	}
	return stayed
}

// dialEveryTime makes the upstream close each connection after its
// answer, so that every request dials a new one: a stream holds its
// upstream connection, so each of many concurrent streams dials, and
// the dial is one of the deepest moments of a request.
func dialEveryTime(h func(http.ResponseWriter, *http.Request, []byte)) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Connection", "close")
		h(w, r, body)
	}
}

// stackGateway is a gateway configured as llmedge serve configures it:
// info logging and an access line per request, formatted in place.
func stackGateway(t *testing.T, up *fakeOpenAI, accessOut io.Writer) *Server {
	t.Helper()
	cfg := testConfig(dep(0, "m", "openai/m", up.base(), "sk-up"))
	reg, err := upstream.NewRegistry(cfg, upstream.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := New(cfg, reg, Options{Logger: logger, ObserveOptions: ObserveOptions{AccessLog: true, AccessLogOut: accessOut}})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv
}

// streamChatBody is a chat request like the SDKs send: a system and a
// user message, a tool with a JSON schema, stream with usage.
const streamChatBody = `{"model":"m","stream":true,"stream_options":{"include_usage":true},"temperature":0.7,"max_tokens":256,` +
	`"messages":[{"role":"system","content":"You are terse."},{"role":"user","content":[{"type":"text","text":"Say hello to the world, politely."}]}],` +
	`"tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object","properties":{"q":{"type":"string"},"filters":{"type":"object","properties":{"tags":{"type":"array","items":{"type":"string"}}}}},"required":["q"]}}}]}`

// TestStreamStackWithin8K: the connection goroutine of a streaming chat
// request stays within an 8 KiB stack, with stackSpare to spare, from
// the request line to the access log line.
func TestStreamStackWithin8K(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes frame sizes and stack guards")
	}
	up := newFakeOpenAI(t)
	up.handle = dialEveryTime(streamWords(strings.Fields("one two three four five six seven eight"), 0, nil))
	for _, tc := range []struct {
		name string
		out  io.Writer
	}{{"access line in place", io.Discard}, {"access record through slog", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := stackGateway(t, up, tc.out)
			// Warm the pools and connections: the first request of a
			// process is not the one that matters.
			streamOnProbedConn(t, srv, 0, streamChatBody)
			if !streamOnProbedConn(t, srv, stackSpare, streamChatBody) {
				t.Fatalf("a streaming chat request grew its connection goroutine past 8 KiB (with %d bytes of frames above ServeConn)", stackSpare)
			}
		})
	}
}

// TestStreamStackMeasure reports how much of an 8 KiB stack a streaming
// chat request leaves unused (go test -run StreamStackMeasure -v).
func TestStreamStackMeasure(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("measurement only")
	}
	up := newFakeOpenAI(t)
	up.handle = dialEveryTime(streamWords(strings.Fields("one two three four five six seven eight"), 0, nil))
	for _, tc := range []struct {
		name string
		out  io.Writer
	}{{"access line in place", io.Discard}, {"access record through slog", nil}} {
		srv := stackGateway(t, up, tc.out)
		streamOnProbedConn(t, srv, 0, streamChatBody)
		for _, size := range []struct {
			kib  int
			grow func()
		}{{8, growTo8K}, {16, growTo16K}} {
			lo, hi := 0, size.kib<<10
			if !streamOnProbedConnIn(t, srv, size.grow, lo, streamChatBody) {
				t.Logf("%s: needs more than %d KiB", tc.name, size.kib)
				continue
			}
			for hi-lo > 128 {
				mid := (lo + hi) / 2
				if streamOnProbedConnIn(t, srv, size.grow, mid, streamChatBody) {
					lo = mid
				} else {
					hi = mid
				}
			}
			t.Logf("%s: spare in a %d KiB stack above ServeConn: %d..%d bytes", tc.name, size.kib, lo, hi)
		}
	}
}
