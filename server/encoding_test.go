package server

import (
	"compress/gzip"
	"context"
	"net/http"
	"strings"
	"testing"
)

// gzipWriter is a ResponseWriter whose body is gzip-coded, flushed
// through on every Flush (an SSE stream stays live).
type gzipWriter struct {
	http.ResponseWriter
	zw *gzip.Writer
}

func (g *gzipWriter) Write(b []byte) (int, error) { return g.zw.Write(b) }

func (g *gzipWriter) Flush() {
	_ = g.zw.Flush()
	g.ResponseWriter.(http.Flusher).Flush()
}

// gzipAnswer answers like answerJSON (a chat.completion, or a stream of
// chunks) gzip-coded: always when force, else as RFC 9110 allows, when
// the request has no Accept-Encoding or one naming gzip.
func gzipAnswer(text string, force bool) func(http.ResponseWriter, *http.Request, []byte) {
	plain := answerJSON(text)
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		ae := r.Header.Get("Accept-Encoding")
		if !force && ae != "" && !strings.Contains(ae, "gzip") {
			plain(w, r, body)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		plain(&gzipWriter{ResponseWriter: w, zw: zw}, r, body)
		_ = zw.Close()
	}
}

// An upstream that may compress (no Accept-Encoding from llmedge lets
// it) or compresses whatever it was asked must not hand the client gzip
// bytes without Content-Encoding: llmedge asks for identity and decodes
// a gzip answer that comes anyway, non-stream and stream.
func TestGzipUpstreamAnswerReachesClientDecoded(t *testing.T) {
	for _, force := range []bool{false, true} {
		name := map[bool]string{false: "compliant", true: "ignores accept-encoding"}[force]
		t.Run(name, func(t *testing.T) {
			up := newFakeOpenAI(t)
			up.setHandler(gzipAnswer("Hello from a gzip upstream.", force))
			gw := startGateway(t, testConfig(dep(0, "m", "openai/m", up.base(), "k")))
			client := sdk(gw, testMasterKey)
			params := userMsg("x")
			params.Model = "m"
			resp, err := client.Chat.Completions.New(context.Background(), params)
			if err != nil {
				t.Fatalf("non-stream: %v", err)
			}
			if got := resp.Choices[0].Message.Content; got != "Hello from a gzip upstream." {
				t.Errorf("non-stream content %q", got)
			}
			st := client.Chat.Completions.NewStreaming(context.Background(), params)
			var sb strings.Builder
			for st.Next() {
				if ch := st.Current(); len(ch.Choices) > 0 {
					sb.WriteString(ch.Choices[0].Delta.Content)
				}
			}
			if err := st.Err(); err != nil {
				t.Fatalf("stream: %v", err)
			}
			if sb.String() != "Hello from a gzip upstream." {
				t.Errorf("stream content %q", sb.String())
			}
			for _, r := range up.requests() {
				if r.Header.Get("Accept-Encoding") != "identity" {
					t.Errorf("upstream request Accept-Encoding %q, want identity", r.Header.Get("Accept-Encoding"))
				}
			}
		})
	}
}

// A content coding llmedge cannot decode fails the attempt as a
// malformed answer instead of reaching the client as unreadable bytes.
func TestUndecodableUpstreamEncodingIsAnError(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "br")
		_, _ = w.Write([]byte("\x1b\x0b\x00\xf8brotli-bytes"))
	})
	gw := startGateway(t, relConfig(map[string]any{"num_retries": int64(0)}, dep(0, "m", "openai/m", up.base(), "k")))
	r := rawPost(t, gw, "/v1/chat/completions", chatBody, testMasterKey)
	if r.StatusCode != 502 || !strings.Contains(r.Body, "malformed answer") || strings.Contains(r.Body, "brotli-bytes") {
		t.Errorf("br answer: %d %s", r.StatusCode, r.Body)
	}
}
