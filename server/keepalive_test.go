package server

import (
	"context"
	"github.com/openai/openai-go/v3"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestStreamKeepalivePings(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(waitThen(400*time.Millisecond, streamWords([]string{"finally"}, 0, nil)))
	cfg := relConfig(nil, dep(0, "m", "openai/m", up.base(), "k"))
	setSettings(cfg, "general_settings", map[string]any{"stream_keepalive_seconds": 0.1})
	gw := startGateway(t, cfg)
	conn, br := rawStreamOpen(t, gw, streamReq)
	defer conn.Close()
	pings := 0
	for {
		ev := readEvent(t, conn, br)
		if ev == ": ping\n" {
			pings++
			continue
		}
		if !strings.Contains(ev, `"role":"assistant"`) {
			t.Fatalf("first event %q", ev)
		}
		break
	}
	if pings < 2 {
		t.Fatalf("%d pings in 400ms at 100ms", pings)
	}
	// The SDK ignores the comments.
	client := sdk(gw, testMasterKey)
	p := userMsg("x")
	p.Model = "m"
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	acc := openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if stream.Err() != nil || acc.Choices[0].Message.Content != "finally" {
		t.Fatalf("sdk: %v %+v", stream.Err(), acc.Choices)
	}
}

// With keepalive the status is committed early: a failure before the
// first event becomes an SSE error event and a clean end.
func TestStreamKeepaliveErrorBeforeFirstEvent(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		io.WriteString(w, "{\n  \"error\": {\"message\": \"bad key\", \"type\": \"authentication_error\", \"param\": null, \"code\": \"invalid_api_key\"}\n}")
	})
	cfg := relConfig(nil, dep(0, "m", "openai/m", up.base(), "k"))
	setSettings(cfg, "general_settings", map[string]any{"stream_keepalive_seconds": int64(5)})
	gw := startGateway(t, cfg)
	r := rawPost(t, gw, "/v1/chat/completions", streamReq, testMasterKey)
	if r.StatusCode != 200 || r.Body != "data: {   \"error\": {\"message\": \"bad key\", \"type\": \"authentication_error\", \"param\": null, \"code\": \"invalid_api_key\"} }\n\ndata: [DONE]\n\n" {
		t.Fatalf("status %d body %q", r.StatusCode, r.Body)
	}
}

func TestClientDisconnectWithKeepaliveCancelsUpstream(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(waitThen(10*time.Second, streamWords([]string{"never"}, 0, nil)))
	cfg := relConfig(nil, dep(0, "m", "openai/m", up.base(), "k"))
	setSettings(cfg, "general_settings", map[string]any{"stream_keepalive_seconds": 0.05})
	gw := startGateway(t, cfg)
	conn, br := rawStreamOpen(t, gw, streamReq)
	if ev := readEvent(t, conn, br); ev != ": ping\n" {
		t.Fatalf("event %q", ev)
	}
	conn.Close()
	select {
	case <-up.closed:
	case <-time.After(3 * time.Second):
		t.Fatal("upstream call not canceled")
	}
	waitFor(t, 3*time.Second, "in-flight back to 0", func() bool { return gw.srv.InFlight() == 0 })
	if n := len(up.requests()); n != 1 {
		t.Fatalf("upstream calls %d", n)
	}
}

// Pings also fill a long gap after the first event (a reasoning model
// that sent its role chunk and then thinks), between whole events.
func TestStreamKeepalivePingsBetweenEvents(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(streamWords([]string{"a", "b"}, 350*time.Millisecond, nil))
	cfg := relConfig(nil, dep(0, "m", "openai/m", up.base(), "k"))
	setSettings(cfg, "general_settings", map[string]any{"stream_keepalive_seconds": 0.1})
	gw := startGateway(t, cfg)
	conn, br := rawStreamOpen(t, gw, streamReq)
	defer conn.Close()
	var seq []string
	for {
		ev := readEvent(t, conn, br)
		switch {
		case ev == ": ping\n":
			seq = append(seq, "ping")
		case strings.HasPrefix(ev, "data: [DONE]"):
			seq = append(seq, "done")
		case strings.Contains(ev, `"content":"b"`):
			seq = append(seq, "b")
		case strings.Contains(ev, `"content":"a `):
			seq = append(seq, "a")
		case strings.HasPrefix(ev, "data: "):
			seq = append(seq, "chunk")
		default:
			t.Fatalf("unexpected event %q", ev)
		}
		if seq[len(seq)-1] == "done" {
			break
		}
	}
	got := strings.Join(seq, ",")
	if !strings.Contains(got, "a,ping,ping") || !strings.HasSuffix(got, "b,chunk,done") {
		t.Fatalf("sequence %s", got)
	}
}

// With keepalive, a Responses stream that fails before its first event
// ends with the Responses API's own error event (no [DONE]).
func TestStreamKeepaliveErrorOnResponsesRoute(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(status(503))
	cfg := relConfig(map[string]any{"num_retries": int64(0)}, dep(0, "m", "openai/m", up.base(), "k"))
	setSettings(cfg, "general_settings", map[string]any{"stream_keepalive_seconds": int64(5)})
	gw := startGateway(t, cfg)
	r := rawPost(t, gw, "/v1/responses", `{"model":"m","input":"x","stream":true}`, testMasterKey)
	if r.StatusCode != 200 || !strings.HasPrefix(r.Body, "event: error\ndata: {\"type\":\"error\"") || strings.Contains(r.Body, "[DONE]") || !strings.Contains(r.Body, "injected 503") {
		t.Fatalf("status %d body %q", r.StatusCode, r.Body)
	}
	if up.requests()[0].Path != "/v1/responses" {
		t.Fatalf("path %s", up.requests()[0].Path)
	}
}
