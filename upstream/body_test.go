package upstream

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
)

// decodeSplit runs a fresh chunkDecoder over in, fed in pieces cut at
// cuts (ascending offsets), and returns the body, whether it ended,
// the bytes after its end and the first error.
func decodeSplit(in []byte, cuts ...int) (body []byte, done bool, extra int, err error) {
	var d chunkDecoder
	buf := append([]byte(nil), in...)
	prev := 0
	for _, c := range append(cuts, len(buf)) {
		if c < prev || c > len(buf) {
			continue
		}
		piece := buf[prev:c]
		prev = c
		n, x, ok, e := d.decode(piece)
		body = append(body, piece[:n]...)
		if e != nil {
			return body, false, 0, e
		}
		if ok {
			return body, true, x + len(buf) - c, nil
		}
	}
	return body, false, 0, nil
}

func TestChunkDecoderAnySplit(t *testing.T) {
	for _, tc := range []struct {
		name, in, body string
		extra          int
	}{
		{"one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello", 0},
		{"sse events", "9\r\ndata: a\n\n\r\nb\r\ndata: bcd\n\n\r\n0\r\n\r\n", "data: a\n\ndata: bcd\n\n", 0},
		{"upper hex, extension, whitespace", "A ;name=v\r\n0123456789\r\n1;x\r\n!\r\n0\r\n\r\n", "0123456789!", 0},
		{"trailers", "3\r\nabc\r\n0\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n", "abc", 0},
		{"empty body", "0\r\n\r\n", "", 0},
		{"bytes after the end", "1\r\nz\r\n0\r\n\r\nHTTP/1.1", "z", 8},
		{"leading zeros", "0003\r\nabc\r\n000\r\n\r\n", "abc", 0},
	} {
		in := []byte(tc.in)
		check := func(cuts ...int) {
			body, done, extra, err := decodeSplit(in, cuts...)
			if err != nil || !done || string(body) != tc.body || extra != tc.extra {
				t.Fatalf("%s cut at %v: body %q done %v extra %d err %v", tc.name, cuts, body, done, extra, err)
			}
		}
		check()
		for i := 0; i <= len(in); i++ {
			for j := i; j <= len(in); j++ {
				check(i, j)
			}
		}
		every := make([]int, len(in))
		for i := range every {
			every[i] = i
		}
		check(every...)
	}
}

func TestChunkDecoderRejectsBrokenFraming(t *testing.T) {
	for _, in := range []string{
		"\r\nabc\r\n",          // no size
		"g\r\n",                // not hex
		"3\nabc\r\n",           // bare LF after the size
		"3\r\nabcd\r\n",        // data longer than the size
		"3\r\nab\r\n\r\n",      // data shorter than the size
		"3\r\nabc\n0\r\n\r\n",  // bare LF after the data
		"1000000000000000\r\n", // 16 hex digits
		"3 x\r\nabc\r\n",       // junk after the size
		"0\r\n\rX",             // broken final CRLF
		"1;" + strings.Repeat("e", maxChunkTrailer+1),       // endless extension
		"0\r\nX: " + strings.Repeat("t", maxChunkTrailer+1), // endless trailer
	} {
		if _, _, _, err := decodeSplit([]byte(in)); !errors.Is(err, errMalformedChunk) {
			t.Errorf("%q: err %v, want errMalformedChunk", in, err)
		}
	}
	// Cut short is not an error of the framing: more may come.
	if _, done, _, err := decodeSplit([]byte("5\r\nhel")); done || err != nil {
		t.Fatalf("partial: done %v err %v", done, err)
	}
}

// FuzzChunkDecoder: any split of the input decodes as the whole does,
// and what decodes agrees with net/http's chunked reader.
func FuzzChunkDecoder(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\n"), uint16(3), uint16(9))
	f.Add([]byte("A;x=y\r\n0123456789\r\n0\r\nT: v\r\n\r\n"), uint16(1), uint16(20))
	f.Add([]byte("9\r\ndata: a\n\n\r\n0\r\n\r\nextra"), uint16(12), uint16(13))
	f.Fuzz(func(t *testing.T, in []byte, c1, c2 uint16) {
		a, b := int(c1)%(len(in)+1), int(c2)%(len(in)+1)
		if a > b {
			a, b = b, a
		}
		whole, done, extra, err := decodeSplit(in)
		split, done2, extra2, err2 := decodeSplit(in, a, b)
		if (err == nil) != (err2 == nil) || done != done2 || extra != extra2 || !bytes.Equal(whole, split) {
			t.Fatalf("whole: %q %v %d %v; split at %d,%d: %q %v %d %v", whole, done, extra, err, a, b, split, done2, extra2, err2)
		}
		if !done {
			return
		}
		ref, rerr := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(in)))
		if rerr == nil && !bytes.Equal(ref, whole) {
			t.Fatalf("net/http reads %q, we read %q", ref, whole)
		}
	})
}

// FuzzChunkDecoderRoundTrip: whatever net/http's chunked writer
// produces, in whatever write sizes, decodes to the data written.
func FuzzChunkDecoderRoundTrip(f *testing.F) {
	f.Add([]byte("data: {\"choices\":[]}\n\n"), uint8(7))
	f.Add([]byte{}, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, step uint8) {
		var enc bytes.Buffer
		w := httputil.NewChunkedWriter(&enc)
		s := int(step) + 1
		for i := 0; i < len(data); i += s {
			_, _ = w.Write(data[i:min(i+s, len(data))])
		}
		_ = w.Close()
		enc.WriteString("\r\n")
		got, done, extra, err := decodeSplit(enc.Bytes(), enc.Len()/2)
		if err != nil || !done || extra != 0 || !bytes.Equal(got, data) {
			t.Fatalf("%q -> %q done %v extra %d err %v", data, got, done, extra, err)
		}
	})
}

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
	if out.x.br != nil {
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

// The lead byte is read alone, then handed to the header reader ahead
// of whatever followed it; later reads go to the connection.
func TestLeadByteHandsOverFirstByte(t *testing.T) {
	srv, cli := net.Pipe()
	defer srv.Close()
	defer cli.Close()
	go func() {
		_, _ = srv.Write([]byte("H"))
		_, _ = srv.Write([]byte("TTP/1.1 200 OK\r\n"))
		_, _ = srv.Write([]byte("rest"))
	}()
	var l leadByte
	if err := l.wait(cli); err != nil || l.b[0] != 'H' {
		t.Fatalf("wait: %q %v", l.b[0], err)
	}
	br := bufio.NewReader(&l)
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 200 OK\r\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	rest := make([]byte, 4)
	if _, err := io.ReadFull(br, rest); err != nil || string(rest) != "rest" {
		t.Fatalf("rest %q, %v", rest, err)
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
