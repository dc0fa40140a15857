package upstream

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
)

// rawUpstream serves each connection with answer(i) for its i-th
// request (0-based, per connection), written in the given pieces with
// a short pause between them so they arrive as separate reads. It
// counts connections.
func rawUpstream(t *testing.T, answer func(conn, req int) []string) (base string, conns *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns = new(atomic.Int32)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			id := int(conns.Add(1)) - 1
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				br := bufio.NewReader(c)
				for i := 0; ; i++ {
					if !readRequest(br) {
						return
					}
					pieces := answer(id, i)
					for _, p := range pieces {
						if p == "<close>" {
							return
						}
						if _, err := c.Write([]byte(p)); err != nil {
							return
						}
						time.Sleep(2 * time.Millisecond)
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return "http://" + ln.Addr().String() + "/v1", conns
}

// readRequest consumes one request with a Content-Length body.
func readRequest(br *bufio.Reader) bool {
	n := 0
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return false
		}
		if line == "\r\n" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Content-Length") {
			for _, c := range strings.TrimSpace(v) {
				n = n*10 + int(c-'0')
			}
		}
	}
	_, err := io.CopyN(io.Discard, br, int64(n))
	return err == nil
}

func rawRegistry(t *testing.T, base string) *Registry {
	t.Helper()
	cfg := &config.Config{Deployments: []*config.Deployment{{ModelName: "m", ID: "m-0", Model: "openai/gpt-4o", Provider: "openai", UpstreamModel: "gpt-4o", APIBase: base, APIKey: "k"}}}
	reg, err := NewRegistry(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

const (
	sseHead = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
	ev1     = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n"
	ev2     = "data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n"
	evDone  = "data: [DONE]\n\n"
)

func hexLen(s string) string { return strconv.FormatInt(int64(len(s)), 16) }

func relayStream(t *testing.T, reg *Registry) (string, error) {
	t.Helper()
	out := AcquireResponse()
	defer ReleaseResponse(out)
	if err := reg.Chat(reg.Lookup([]byte("m")), request(RouteChat, `{"model":"m","messages":[],"stream":true}`, true), out); err != nil {
		return "", err
	}
	if out.Stream == nil {
		t.Fatal("no stream")
	}
	var w bufWriter
	err := out.Stream.Relay(&w)
	return w.String(), err
}

// The framing of a chunked stream may be cut anywhere across reads, and
// a chunk may hold half an event or several: the events relayed are
// the upstream's, byte for byte, and the connection is reused.
func TestChunkedStreamFramingAcrossReads(t *testing.T) {
	body := ev1 + ev2 + evDone
	// Chunks cut mid-event; TCP writes cut mid-framing.
	c1, c2 := body[:10], body[10:70]
	c3 := body[70:]
	wire := sseHead + hexLen(c1) + "\r\n" + c1 + "\r\n" + hexLen(c2) + "\r\n" + c2 + "\r\n" + hexLen(c3) + ";ext=1\r\n" + c3 + "\r\n0\r\nX-T: 1\r\n\r\n"
	var pieces []string
	for i := 0; i < len(wire); i += 37 {
		pieces = append(pieces, wire[i:min(i+37, len(wire))])
	}
	base, conns := rawUpstream(t, func(int, int) []string { return pieces })
	reg := rawRegistry(t, base)
	for i := range 3 {
		got, err := relayStream(t, reg)
		if err != nil || got != body {
			t.Fatalf("request %d: %q, %v", i, got, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for 3 requests: the finished body did not leave the connection reusable", n)
	}
}

// Bytes after the terminal chunk mean the connection is not at a
// message boundary: the answer stands but the connection is not reused.
func TestBytesAfterChunkedBodyDropConnection(t *testing.T) {
	body := ev1 + evDone
	base, conns := rawUpstream(t, func(int, int) []string {
		return []string{sseHead + hexLen(body) + "\r\n" + body + "\r\n0\r\n\r\nGARBAGE"}
	})
	reg := rawRegistry(t, base)
	for i := range 2 {
		if got, err := relayStream(t, reg); err != nil || got != body {
			t.Fatalf("request %d: %q, %v", i, got, err)
		}
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections, want 2 (no reuse after stray bytes)", n)
	}
}

// A body with neither Content-Length nor chunked coding ends when the
// upstream closes (HTTP/1.0 servers); such a connection is never reused.
func TestCloseDelimitedAnswer(t *testing.T) {
	answer := `{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`
	base, conns := rawUpstream(t, func(int, int) []string {
		return []string{"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n", answer[:20], answer[20:], "<close>"}
	})
	askTwice(t, rawRegistry(t, base), answer)
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
}

// askTwice makes two non-stream calls, each of which must answer want.
func askTwice(t *testing.T, reg *Registry, want string) {
	t.Helper()
	for i := range 2 {
		out := AcquireResponse()
		err := reg.Chat(reg.Lookup([]byte("m")), request(RouteChat, `{"model":"m","messages":[]}`, false), out)
		if err != nil || string(out.Body) != want {
			t.Fatalf("request %d: %q, %v", i, out.Body, err)
		}
		ReleaseResponse(out)
	}
}

// An interim 100 Continue before the answer is skipped; a Content-Length
// body spread over several reads is read whole and the connection kept.
func TestInterimResponseAndLengthBody(t *testing.T) {
	answer := `{"id":"c","object":"chat.completion","choices":[]}`
	base, conns := rawUpstream(t, func(int, int) []string {
		return []string{"HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(answer)) + "\r\n\r\n" + answer[:5], answer[5:]}
	})
	askTwice(t, rawRegistry(t, base), answer)
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
}

// A stream cut inside a chunk, or with broken framing, is a mid-stream
// failure the client is told about, not a clean end.
func TestBrokenChunkedStreamFails(t *testing.T) {
	for name, tail := range map[string]string{
		"closed inside a chunk": hexLen(ev2) + "\r\n" + ev2[:9],
		"malformed framing":     "zz\r\n" + ev2 + "\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			base, _ := rawUpstream(t, func(int, int) []string {
				return []string{sseHead + hexLen(ev1) + "\r\n" + ev1 + "\r\n", tail, "<close>"}
			})
			got, err := relayStream(t, rawRegistry(t, base))
			if !strings.HasPrefix(got, ev1) || !strings.Contains(got, `"error"`) {
				t.Fatalf("relayed %q (err %v): want the first event then an error event", got, err)
			}
		})
	}
}

// Once the first event is read, the stream no longer holds the pooled
// 8 KiB header reader: an open stream costs only its scanner's buffer.
func TestStreamReleasesHeaderReader(t *testing.T) {
	base, _ := rawUpstream(t, func(int, int) []string {
		return []string{sseHead + hexLen(ev1) + "\r\n" + ev1 + "\r\n"}
	})
	reg := rawRegistry(t, base)
	out := AcquireResponse()
	defer ReleaseResponse(out)
	req := request(RouteChat, `{"model":"m","messages":[],"stream":true}`, true)
	if err := reg.Chat(reg.Lookup([]byte("m")), req, out); err != nil {
		t.Fatal(err)
	}
	if out.X.HoldsHeaderReader() {
		t.Fatal("the header reader is still held after the first event")
	}
	req.Cancel.Cancel()
	var w bufWriter
	_ = out.Stream.Relay(&w)
}

// timedWriter records when each flushed chunk was written.
type timedWriter struct {
	bytes.Buffer
	at []time.Time
}

func (w *timedWriter) Flush() error { w.at = append(w.at, time.Now()); return nil }

// stream_timeout is the longest gap between two reads' bytes: a stream
// whose events keep coming lives past many timeouts (the read deadline
// armed earlier fires, is found early and moved), and a stall after
// them is cut no sooner than stream_timeout after the last event.
func TestStreamTimeoutIsPerGap(t *testing.T) {
	const timeout = 150 * time.Millisecond
	base := fakeUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 12 {
			fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"%d\"}}]}\n\n", i)
			w.(http.Flusher).Flush()
			time.Sleep(40 * time.Millisecond)
		}
		<-r.Context().Done() // stall until llmedge gives up
	})
	cfg := &config.Config{Deployments: []*config.Deployment{{ModelName: "m", ID: "m-0", Model: "openai/gpt-4o", Provider: "openai",
		UpstreamModel: "gpt-4o", APIBase: base, APIKey: "k", StreamTimeout: timeout}}}
	reg, err := NewRegistry(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := AcquireResponse()
	defer ReleaseResponse(out)
	if err := reg.Chat(reg.Lookup([]byte("m")), request(RouteChat, `{"model":"m","messages":[],"stream":true}`, true), out); err != nil {
		t.Fatal(err)
	}
	var w timedWriter
	_ = out.Stream.Relay(&w)
	got := w.String()
	if !strings.Contains(got, `"content":"11"`) || !strings.Contains(got, "upstream_timeout") {
		t.Fatalf("relayed %q", got)
	}
	// The last flush is the error; the one before it the last event.
	if len(w.at) < 2 {
		t.Fatalf("%d flushes", len(w.at))
	}
	gap := w.at[len(w.at)-1].Sub(w.at[len(w.at)-2])
	if gap < timeout-10*time.Millisecond || gap > timeout+time.Second {
		t.Fatalf("stall cut %s after the last event, want about %s", gap, timeout)
	}
}

// Calls to a deployment whose answers are slow (or not yet timed) wait
// for the first byte without a read buffer; fast ones read at once. Both
// answer alike, keep their connection alive, and resend a request whose
// pooled connection the upstream had closed.
func TestBareWaitAndBufferedWaitAnswerAlike(t *testing.T) {
	answer := `{"id":"c","object":"chat.completion","choices":[]}`
	full := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(answer)) + "\r\n\r\n" + answer
	for _, tc := range []struct {
		name    string
		latency time.Duration
	}{{"slow upstream, bare wait", time.Second}, {"fast upstream, buffered wait", time.Microsecond}} {
		t.Run(tc.name, func(t *testing.T) {
			base, conns := rawUpstream(t, func(conn, req int) []string {
				if conn == 0 && req == 1 {
					// The upstream closed this kept-alive connection:
					// the request goes again on a new one.
					return []string{"<close>"}
				}
				return []string{full[:1], full[1:]}
			})
			reg := rawRegistry(t, base)
			d := reg.Lookup([]byte("m")).Deployments[0]
			for i := range 3 {
				d.health.latency.Store(int64(tc.latency))
				if d.slowAnswers() != (tc.latency > slowAnswerTTFB) {
					t.Fatalf("slowAnswers %v for %s", d.slowAnswers(), tc.latency)
				}
				out := AcquireResponse()
				err := reg.Chat(reg.Lookup([]byte("m")), request(RouteChat, `{"model":"m","messages":[]}`, false), out)
				if err != nil || string(out.Body) != answer {
					t.Fatalf("request %d: %q, %v", i, out.Body, err)
				}
				ReleaseResponse(out)
			}
			if n := conns.Load(); n != 2 {
				t.Fatalf("%d connections for 3 calls, want 2 (one stale, then kept)", n)
			}
		})
	}
}
