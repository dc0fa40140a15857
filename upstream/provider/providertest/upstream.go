package providertest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Handler answers one request a fake upstream received; body is the
// request body, already read.
type Handler func(w http.ResponseWriter, r *http.Request, body []byte)

// Seen is one request a fake upstream received.
type Seen struct {
	Path, RequestURI string
	Header           http.Header
	Body             []byte
}

// Upstream is a provider's API on loopback: it records every request
// and answers it with the test's Handler (OpenAIAnswer when none).
type Upstream struct {
	ln     net.Listener
	mu     sync.Mutex
	seen   []Seen
	handle Handler
}

// NewUpstream starts an Upstream answering with h (nil: OpenAIAnswer)
// until the test ends.
func NewUpstream(t testing.TB, h Handler) *Upstream {
	t.Helper()
	u := &Upstream{handle: h}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.ln = ln
	srv := &http.Server{Handler: http.HandlerFunc(u.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = srv.Close()
	})
	return u
}

// URL is the upstream's root, http://127.0.0.1:port.
func (u *Upstream) URL() string { return "http://" + u.ln.Addr().String() }

// SetHandler changes how the next requests are answered.
func (u *Upstream) SetHandler(h Handler) {
	u.mu.Lock()
	u.handle = h
	u.mu.Unlock()
}

// Requests is every request received so far.
func (u *Upstream) Requests() []Seen {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]Seen(nil), u.seen...)
}

func (u *Upstream) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.seen = append(u.seen, Seen{Path: r.URL.Path, RequestURI: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body})
	h := u.handle
	u.mu.Unlock()
	if h == nil {
		h = OpenAIAnswer("Hello from the fake upstream.")
	}
	h(w, r, body)
}

// RequestModel reads "model" from a request body.
func RequestModel(body []byte) string {
	var v struct {
		Model string `json:"model"`
	}
	_ = json.Unmarshal(body, &v)
	return v.Model
}

// OpenAIAnswer answers a chat completion as OpenAI's API reference
// shows it: a chat.completion document, or for "stream":true the text
// streamed a word a chunk (OpenAIStream).
func OpenAIAnswer(text string) Handler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req struct {
			Stream bool `json:"stream"`
		}
		_ = json.Unmarshal(body, &req)
		if req.Stream {
			OpenAIStream(strings.Fields(text), 0, nil)(w, r, body)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Ratelimit-Remaining-Requests", "99")
		w.Header().Set("Set-Cookie", "upstream_secret=1")
		fmt.Fprintf(w, `{"id":"chatcmpl-up","object":"chat.completion","created":1700000000,"model":%q,"choices":[{"index":0,"message":{"role":"assistant","content":%q,"refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":6,"total_tokens":11}}`, RequestModel(body), text)
	}
}

// OpenAIStream streams chat.completion.chunk events, one per word, with
// gap between them; gate (optional) is awaited before every chunk after
// the first.
func OpenAIStream(words []string, gap time.Duration, gate chan struct{}) Handler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		model := RequestModel(body)
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		fl := w.(http.Flusher)
		chunk := func(delta string, finish string) {
			fin := "null"
			if finish != "" {
				fin = `"` + finish + `"`
			}
			fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-up\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":%q,\"choices\":[{\"index\":0,\"delta\":%s,\"logprobs\":null,\"finish_reason\":%s}]}\n\n", model, delta, fin)
			fl.Flush()
		}
		chunk(`{"role":"assistant","content":""}`, "")
		for i, word := range words {
			if i > 0 {
				if gate != nil {
					select {
					case <-gate:
					case <-r.Context().Done():
						return
					case <-time.After(10 * time.Second):
						return
					}
				}
				if gap > 0 {
					select {
					case <-time.After(gap):
					case <-r.Context().Done():
						return
					}
				}
			}
			sep := " "
			if i == len(words)-1 {
				sep = ""
			}
			b, _ := json.Marshal(map[string]string{"content": word + sep})
			chunk(string(b), "")
		}
		chunk(`{}`, "stop")
		fmt.Fprint(w, "data: [DONE]\n\n")
		fl.Flush()
	}
}

// Status answers code with an OpenAI error document and the given
// "Name: value" headers.
func Status(code int, headers ...string) Handler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		for _, h := range headers {
			k, v, _ := strings.Cut(h, ":")
			w.Header().Set(k, strings.TrimSpace(v))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"error":{"message":"injected %d","type":"api_error","param":null,"code":null}}`, code)
	}
}

// JSONAnswer answers code with the JSON document body.
func JSONAnswer(code int, body string) Handler {
	return func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

// Sequence answers the n-th request (from 0) with steps[n], the last
// step repeating.
func Sequence(steps ...Handler) Handler {
	var n atomic.Int32
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		i := int(n.Add(1)) - 1
		if i >= len(steps) {
			i = len(steps) - 1
		}
		steps[i](w, r, body)
	}
}

// ResetConn closes the TCP connection without an answer.
func ResetConn(w http.ResponseWriter, r *http.Request, body []byte) {
	if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
	}
}

// HeadersThenWait sends SSE headers and then waits (for the first event
// that never comes) until d or the client leaves.
func HeadersThenWait(d time.Duration) Handler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(d):
		}
	}
}

// WaitThen answers with next after d, unless the client left.
func WaitThen(d time.Duration, next Handler) Handler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(d):
		}
		next(w, r, body)
	}
}

// JSONPath walks decoded JSON by object keys (string) and array
// indexes (int); nil when a step is missing.
func JSONPath(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}
