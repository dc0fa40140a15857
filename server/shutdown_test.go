package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// hangAfterFirst answers a stream with its first event, then holds it
// open until the client (llmedge) goes away.
func hangAfterFirst(first string) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, first)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	}
}

// openRawStream sends a stream request and returns the decoded SSE
// reader after the response head.
func openRawStream(t *testing.T, gw *gateway, path, body string, headers ...string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	writeRequest(t, conn, "POST", path, body, headers...)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s: %v %v", path, resp, err)
	}
	return conn, bufio.NewReader(&chunkedReader{br: br})
}

// Streams still open when the shutdown grace ran out were cut with no
// last event and no access-log line. They now get an error event in
// their route's shape and a clean end (the chunked terminator), and are
// logged, before Shutdown returns.
func TestStreamsCutAtGraceEndGetErrorEventAndAccessLog(t *testing.T) {
	oa := newFakeOpenAI(t)
	oa.setHandler(hangAfterFirst("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}\n\n"))
	an := newFakeOpenAI(t)
	ev := anStart("claude", 1, 0, 0)
	an.setHandler(hangAfterFirst("event: " + ev.name + "\ndata: " + ev.data + "\n\n"))
	gw, logs := startObserved(t, testConfig(dep(0, "gpt", "openai/gpt-4o", oa.base(), "k"), anthropicDep(1, "claude", an)),
		Options{ObserveOptions: ObserveOptions{AccessLog: true}})

	chatConn, chat := openRawStream(t, gw, "/v1/chat/completions", `{"model":"gpt","stream":true,"messages":[{"role":"user","content":"hi"}]}`,
		"Authorization: Bearer "+testMasterKey, "X-Request-Id: cut-chat")
	if e := readEvent(t, chatConn, chat); !strings.Contains(e, `"hi"`) {
		t.Fatalf("chat first event %q", e)
	}
	msgConn, msg := openRawStream(t, gw, "/v1/messages", fmt.Sprintf(claudeCodeBody, `,"stream":true`), claudeHeaders("X-Request-Id: cut-msg")...)
	if e := readEvent(t, msgConn, msg); !strings.Contains(e, "message_start") {
		t.Fatalf("messages first event %q", e)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- gw.srv.Shutdown(ctx) }()

	_ = chatConn.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, err := io.ReadAll(chat)
	if err != nil {
		t.Fatalf("chat stream did not end cleanly: %v (got %q)", err, rest)
	}
	if !strings.Contains(string(rest), `"error":{`) || !strings.Contains(string(rest), "server_shutting_down") || !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Errorf("chat stream's last events: %q", rest)
	}
	_ = msgConn.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, err = io.ReadAll(msg)
	if err != nil {
		t.Fatalf("messages stream did not end cleanly: %v (got %q)", err, rest)
	}
	if !strings.HasPrefix(string(rest), "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":") {
		t.Errorf("messages stream's last event: %q", rest)
	}

	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown = %v, want the grace's deadline", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return")
	}
	// The lines are written before Shutdown returns.
	out := logs.String()
	for _, id := range []string{"cut-chat", "cut-msg"} {
		var line string
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, `"msg":"request"`) && strings.Contains(l, `"request_id":"`+id+`"`) {
				line = l
			}
		}
		if !strings.Contains(line, `"status":200`) || !strings.Contains(line, `shutting down`) {
			t.Errorf("access log for %s: %q", id, line)
		}
	}
}
