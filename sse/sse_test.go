package sse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// rec is a comparable copy of an Event; nil pointers mean "field absent".
type rec struct {
	Raw                   string
	Name, ID, Data, Retry *string
	Comment               bool
}

func p(s string) *string { return &s }

func opt(b []byte) *string {
	if b == nil {
		return nil
	}
	return p(string(b))
}

func (r rec) String() string {
	f := func(s *string) string {
		if s == nil {
			return "nil"
		}
		return fmt.Sprintf("%q", *s)
	}
	return fmt.Sprintf("{Raw:%q Name:%s ID:%s Data:%s Retry:%s Comment:%v}", r.Raw, f(r.Name), f(r.ID), f(r.Data), f(r.Retry), r.Comment)
}

func toRec(e Event) rec {
	return rec{Raw: string(e.Raw), Name: opt(e.Name), ID: opt(e.ID), Data: opt(e.Data), Retry: opt(e.Retry), Comment: e.Comment}
}

type result struct {
	events  []rec
	err     error  // final error (io.EOF for a clean end)
	partial string // Raw returned with a non-EOF error
}

func scanAll(r io.Reader, max int) result {
	s := NewScanner(r, max)
	var res result
	for {
		e, err := s.Next()
		if err != nil {
			res.err = err
			res.partial = string(e.Raw)
			return res
		}
		res.events = append(res.events, toRec(e))
	}
}

// splitReader returns the input in random-sized pieces (seeded).
type splitReader struct {
	data []byte
	rng  *rand.Rand
}

func (r *splitReader) Read(b []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := 1 + r.rng.Intn(min(len(r.data), 16))
	n = min(n, len(b))
	copy(b, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// dataEOFReader returns the last chunk together with io.EOF.
type dataEOFReader struct{ data []byte }

func (r *dataEOFReader) Read(b []byte) (int, error) {
	n := copy(b, r.data)
	r.data = r.data[n:]
	if len(r.data) == 0 {
		return n, io.EOF
	}
	return n, nil
}

var chunk = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"hello"},"finish_reason":null}]}` + "\n\n"

type scanCase struct {
	name    string
	in      string
	max     int
	want    []rec
	err     error
	partial string
}

var scanCases = []scanCase{
	{name: "empty", in: "", err: io.EOF},
	{name: "single data", in: "data: hello\n\n",
		want: []rec{{Raw: "data: hello\n\n", Data: p("hello")}}, err: io.EOF},
	{name: "no space after colon", in: "data:hello\n\n",
		want: []rec{{Raw: "data:hello\n\n", Data: p("hello")}}, err: io.EOF},
	{name: "only one space stripped", in: "data:  two\n\n",
		want: []rec{{Raw: "data:  two\n\n", Data: p(" two")}}, err: io.EOF},
	{name: "multi data", in: "data: a\ndata: b\ndata:\ndata: c\n\n",
		want: []rec{{Raw: "data: a\ndata: b\ndata:\ndata: c\n\n", Data: p("a\nb\n\nc")}}, err: io.EOF},
	{name: "crlf", in: "event: e\r\ndata: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n",
		want: []rec{
			{Raw: "event: e\r\ndata: a\r\ndata: b\r\n\r\n", Name: p("e"), Data: p("a\nb")},
			{Raw: "data: c\r\n\r\n", Data: p("c")},
		}, err: io.EOF},
	{name: "cr only", in: "data: a\rdata: b\r\rid: 7\rdata: c\r\r",
		want: []rec{
			{Raw: "data: a\rdata: b\r\r", Data: p("a\nb")},
			{Raw: "id: 7\rdata: c\r\r", ID: p("7"), Data: p("c")},
		}, err: io.EOF},
	{name: "mixed line endings", in: "data: a\r\ndata: b\rdata: c\n\r\n",
		want: []rec{{Raw: "data: a\r\ndata: b\rdata: c\n\r\n", Data: p("a\nb\nc")}}, err: io.EOF},
	{name: "comment only", in: ": ping\n\n:\n: x\n\n",
		want: []rec{
			{Raw: ": ping\n\n", Comment: true},
			{Raw: ":\n: x\n\n", Comment: true},
		}, err: io.EOF},
	{name: "comment with data", in: ": note\ndata: x\n\n",
		want: []rec{{Raw: ": note\ndata: x\n\n", Data: p("x")}}, err: io.EOF},
	{name: "event name", in: "event: message_start\ndata: {}\n\nevent: ping\n\n",
		want: []rec{
			{Raw: "event: message_start\ndata: {}\n\n", Name: p("message_start"), Data: p("{}")},
			{Raw: "event: ping\n\n", Name: p("ping")},
		}, err: io.EOF},
	{name: "last event name wins", in: "event: a\nevent: b\ndata: x\n\n",
		want: []rec{{Raw: "event: a\nevent: b\ndata: x\n\n", Name: p("b"), Data: p("x")}}, err: io.EOF},
	{name: "id and retry", in: "id: 42\nretry: 3000\ndata: x\n\n",
		want: []rec{{Raw: "id: 42\nretry: 3000\ndata: x\n\n", ID: p("42"), Retry: p("3000"), Data: p("x")}}, err: io.EOF},
	{name: "empty id", in: "id\n\n",
		want: []rec{{Raw: "id\n\n", ID: p("")}}, err: io.EOF},
	{name: "id with NUL ignored", in: "id: a\x00b\ndata: x\n\n",
		want: []rec{{Raw: "id: a\x00b\ndata: x\n\n", Data: p("x")}}, err: io.EOF},
	{name: "bad retry ignored", in: "retry: 10s\nretry:\ndata: x\n\n",
		want: []rec{{Raw: "retry: 10s\nretry:\ndata: x\n\n", Data: p("x")}}, err: io.EOF},
	{name: "bom", in: "\xEF\xBB\xBFdata: x\n\n",
		want: []rec{{Raw: "\xEF\xBB\xBFdata: x\n\n", Data: p("x")}}, err: io.EOF},
	{name: "bom only", in: "\xEF\xBB\xBF", err: io.EOF},
	{name: "bom not at start is data", in: "data: x\n\n\xEF\xBB\xBFdata: y\n\n",
		want: []rec{
			{Raw: "data: x\n\n", Data: p("x")},
			{Raw: "\xEF\xBB\xBFdata: y\n\n"},
		}, err: io.EOF},
	{name: "partial bom is a field", in: "\xEF\xBBdata: x\n\n",
		want: []rec{{Raw: "\xEF\xBBdata: x\n\n"}}, err: io.EOF},
	{name: "done", in: chunk + "data: [DONE]\n\n",
		want: []rec{
			{Raw: chunk, Data: p(strings.TrimSuffix(strings.TrimPrefix(chunk, "data: "), "\n\n"))},
			{Raw: "data: [DONE]\n\n", Data: p("[DONE]")},
		}, err: io.EOF},
	{name: "no trailing blank line", in: "data: a\n\ndata: b\n",
		want: []rec{{Raw: "data: a\n\n", Data: p("a")}}, err: io.ErrUnexpectedEOF, partial: "data: b\n"},
	{name: "unterminated line", in: "data: a\n\ndata: b",
		want: []rec{{Raw: "data: a\n\n", Data: p("a")}}, err: io.ErrUnexpectedEOF, partial: "data: b"},
	{name: "trailing cr at eof", in: "data: a\r",
		err: io.ErrUnexpectedEOF, partial: "data: a\r"},
	{name: "trailing blank lines", in: "data: a\n\n\n\r\n",
		want: []rec{{Raw: "data: a\n\n", Data: p("a")}}, err: io.EOF},
	{name: "leading blank lines belong to next event", in: "\n\r\ndata: a\n\n\n\ndata: b\n\n",
		want: []rec{
			{Raw: "\n\r\ndata: a\n\n", Data: p("a")},
			{Raw: "\n\ndata: b\n\n", Data: p("b")},
		}, err: io.EOF},
	{name: "empty data line", in: "data\n\ndata:\n\ndata: \n\n",
		want: []rec{
			{Raw: "data\n\n", Data: p("")},
			{Raw: "data:\n\n", Data: p("")},
			{Raw: "data: \n\n", Data: p("")},
		}, err: io.EOF},
	{name: "field without colon", in: "event\ndata\ndata\n\n",
		want: []rec{{Raw: "event\ndata\ndata\n\n", Name: p(""), Data: p("\n")}}, err: io.EOF},
	{name: "unknown fields ignored", in: "foo: bar\ndata: x\nDATA: y\n\n",
		want: []rec{{Raw: "foo: bar\ndata: x\nDATA: y\n\n", Data: p("x")}}, err: io.EOF},
	{name: "colon in value", in: "data: a: b\n\n",
		want: []rec{{Raw: "data: a: b\n\n", Data: p("a: b")}}, err: io.EOF},
	{name: "oversized event", max: 16, in: "data: 0123456789abcdef\n\n", err: ErrEventTooLarge},
	{name: "event exactly max", max: 12, in: "data: 0123\n\ndata: 01234\n\n",
		want: []rec{{Raw: "data: 0123\n\n", Data: p("0123")}}, err: ErrEventTooLarge},
	{name: "oversized after good events", max: 64, in: "data: a\n\ndata: b\n\n" + "data: " + strings.Repeat("x", 100) + "\n\n",
		want: []rec{
			{Raw: "data: a\n\n", Data: p("a")},
			{Raw: "data: b\n\n", Data: p("b")},
		}, err: ErrEventTooLarge},
	{name: "many events", in: strings.Repeat(chunk, 50) + "data: [DONE]\n\n",
		want: func() []rec {
			var rs []rec
			d := strings.TrimSuffix(strings.TrimPrefix(chunk, "data: "), "\n\n")
			for range 50 {
				rs = append(rs, rec{Raw: chunk, Data: p(d)})
			}
			return append(rs, rec{Raw: "data: [DONE]\n\n", Data: p("[DONE]")})
		}(), err: io.EOF},
	{name: "large event grows buffer", in: "data: " + strings.Repeat("y", 20000) + "\ndata: z\n\n",
		want: []rec{{Raw: "data: " + strings.Repeat("y", 20000) + "\ndata: z\n\n", Data: p(strings.Repeat("y", 20000) + "\nz")}}, err: io.EOF},
}

func checkResult(t *testing.T, how string, c scanCase, got result) {
	t.Helper()
	if !reflect.DeepEqual(got.events, c.want) {
		t.Errorf("%s: events\n got %v\nwant %v", how, got.events, c.want)
	}
	if got.err != c.err {
		t.Errorf("%s: err = %v, want %v", how, got.err, c.err)
	}
	if got.partial != c.partial {
		t.Errorf("%s: partial = %q, want %q", how, got.partial, c.partial)
	}
}

func TestScanner(t *testing.T) {
	for _, c := range scanCases {
		t.Run(c.name, func(t *testing.T) {
			checkResult(t, "whole", c, scanAll(strings.NewReader(c.in), c.max))
			checkResult(t, "data+EOF", c, scanAll(&dataEOFReader{[]byte(c.in)}, c.max))
		})
	}
}

// Events split at any byte across reads, or many per read, must give the
// same events. Raw of an individual event may differ only when a CRLF
// terminating an event is split between reads (the "\n" then starts the next
// event's Raw), so Raw is compared as a concatenation.
func TestScannerSplitReads(t *testing.T) {
	norm := func(r result) (result, string) {
		var all strings.Builder
		out := r
		out.events = nil
		for _, e := range r.events {
			all.WriteString(e.Raw)
			e.Raw = ""
			out.events = append(out.events, e)
		}
		all.WriteString(r.partial)
		out.partial = ""
		return out, all.String()
	}
	for _, c := range scanCases {
		t.Run(c.name, func(t *testing.T) {
			want, wantRaw := norm(scanAll(strings.NewReader(c.in), c.max))
			readers := map[string]func() io.Reader{
				"onebyte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(c.in)) },
				"dataerr": func() io.Reader { return iotest.DataErrReader(iotest.OneByteReader(strings.NewReader(c.in))) },
			}
			for seed := range 20 {
				readers[fmt.Sprint("split", seed)] = func() io.Reader {
					return &splitReader{data: []byte(c.in), rng: rand.New(rand.NewSource(int64(seed)))}
				}
			}
			for name, mk := range readers {
				got, gotRaw := norm(scanAll(mk(), c.max))
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s:\n got %v %v\nwant %v %v", name, got.events, got.err, want.events, want.err)
				}
				// Trailing blank-line bytes after the last event are not part of
				// any Raw, so a split CRLF at the very end may lose its "\n".
				if gotRaw != wantRaw && (got.err != io.EOF || strings.Trim(strings.TrimPrefix(wantRaw, gotRaw), "\r\n") != "" || !strings.HasPrefix(wantRaw, gotRaw)) {
					t.Errorf("%s: raw concat %q, want %q", name, gotRaw, wantRaw)
				}
			}
		})
	}
}

// A CRLF split across reads must not create an extra blank line inside an
// event, and a split CRLF after an event must not delay that event.
func TestScannerSplitCRLF(t *testing.T) {
	pr, pw := io.Pipe()
	s := NewScanner(pr, 0)
	type out struct {
		e   rec
		err error
	}
	ch := make(chan out)
	go func() {
		for {
			e, err := s.Next()
			ch <- out{toRec(e), err}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		for _, w := range []string{"data: a\r", "\ndata: b\r\n\r", "\ndata: c\r\n\r\n"} {
			pw.Write([]byte(w))
		}
		pw.Close()
	}()
	want := []rec{
		{Raw: "data: a\r\ndata: b\r\n\r", Data: p("a\nb")},
		{Raw: "\ndata: c\r\n\r\n", Data: p("c")},
	}
	for _, w := range want {
		o := <-ch
		if o.err != nil || !reflect.DeepEqual(o.e, w) {
			t.Fatalf("got %v %v, want %v", o.e, o.err, w)
		}
	}
	if o := <-ch; o.err != io.EOF {
		t.Fatalf("final err %v", o.err)
	}
}

func TestScannerReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("data: a\n\ndata: b\n"), iotest.ErrReader(boom))
	got := scanAll(r, 0)
	if len(got.events) != 1 || got.err != boom || got.partial != "data: b\n" {
		t.Fatalf("got %+v", got)
	}
}

func TestScannerNoProgress(t *testing.T) {
	s := NewScanner(emptyReader{}, 0)
	if _, err := s.Next(); err != io.ErrNoProgress {
		t.Fatalf("err = %v", err)
	}
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

func TestBufferedAndReset(t *testing.T) {
	in := "data: a\ndata: b\n\ndata: c\ndata: d\n\ndata: e"
	s := NewScanner(strings.NewReader(in), 0)
	if s.Buffered() {
		t.Fatal("Buffered before any read")
	}
	e, err := s.Next()
	if err != nil || string(e.Data) != "a\nb" {
		t.Fatalf("got %q %v", e.Data, err)
	}
	if !s.Buffered() {
		t.Fatal("second event should be buffered")
	}
	// Buffered must not clobber the previous event (including scratch Data).
	if string(e.Data) != "a\nb" || string(e.Raw) != "data: a\ndata: b\n\n" {
		t.Fatalf("Buffered invalidated event: %q %q", e.Data, e.Raw)
	}
	e, err = s.Next()
	if err != nil || string(e.Data) != "c\nd" {
		t.Fatalf("got %q %v", e.Data, err)
	}
	if s.Buffered() {
		t.Fatal("partial event reported as buffered")
	}
	if _, err = s.Next(); err != io.ErrUnexpectedEOF {
		t.Fatalf("err = %v", err)
	}
	if _, err = s.Next(); err != io.EOF {
		t.Fatalf("after partial err = %v", err)
	}

	var zero Scanner
	zero.Reset(strings.NewReader("data: zero\n\n"))
	if e, err := zero.Next(); err != nil || string(e.Data) != "zero" {
		t.Fatalf("zero Scanner: %q %v", e.Data, err)
	}

	s.Reset(strings.NewReader("\xEF\xBB\xBFdata: again\n\n"))
	e, err = s.Next()
	if err != nil || string(e.Data) != "again" {
		t.Fatalf("after Reset got %q %v", e.Data, err)
	}
	if _, err = s.Next(); err != io.EOF {
		t.Fatalf("err = %v", err)
	}
}

func TestIsDone(t *testing.T) {
	for in, want := range map[string]bool{"[DONE]": true, "[DONE] ": false, "": false, "[done]": false} {
		e := Event{Data: []byte(in)}
		if e.IsDone() != want {
			t.Errorf("IsDone(%q) = %v", in, !want)
		}
	}
}

func TestWriters(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{string(AppendData(nil, []byte("x"))), "data: x\n\n"},
		{string(AppendData(nil, nil)), "data: \n\n"},
		{string(AppendData(nil, []byte("a\nb\r\nc\rd\n"))), "data: a\ndata: b\ndata: c\ndata: d\ndata: \n\n"},
		{string(AppendData([]byte("pre"), []byte("x"))), "predata: x\n\n"},
		{string(AppendEvent(nil, []byte("ping"), []byte("{}"))), "event: ping\ndata: {}\n\n"},
		{string(AppendEvent(nil, nil, []byte("{}"))), "data: {}\n\n"},
		{string(AppendEvent(nil, []byte("a\nb"), []byte("{}"))), "event: a\ndata: {}\n\n"},
		{string(AppendComment(nil, []byte("ping"))), ": ping\n\n"},
		{string(AppendComment(nil, []byte("a\nb"))), ": a\n: b\n\n"},
		{string(Done), "data: [DONE]\n\n"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	datas := []string{"", "x", "a\nb", "\n", "\n\n", "line1\nline2\nline3", " leading space", ": not a comment", "data: nested", "[DONE]", strings.Repeat("z", 10000), "unicode ✓ 日本"}
	var stream []byte
	for i, d := range datas {
		if i%2 == 0 {
			stream = AppendData(stream, []byte(d))
		} else {
			stream = AppendEvent(stream, []byte(fmt.Sprint("ev", i)), []byte(d))
		}
		stream = AppendComment(stream, []byte("keepalive"))
	}
	stream = append(stream, Done...)
	for _, r := range []io.Reader{bytes.NewReader(stream), iotest.OneByteReader(bytes.NewReader(stream))} {
		s := NewScanner(r, 0)
		for i, d := range datas {
			e, err := s.Next()
			if err != nil {
				t.Fatal(err)
			}
			if string(e.Data) != d {
				t.Fatalf("event %d: data %q, want %q", i, e.Data, d)
			}
			if i%2 == 1 && string(e.Name) != fmt.Sprint("ev", i) {
				t.Fatalf("event %d: name %q", i, e.Name)
			}
			if e, err = s.Next(); err != nil || !e.Comment || e.Data != nil {
				t.Fatalf("expected comment, got %v %v", toRec(e), err)
			}
		}
		e, err := s.Next()
		if err != nil || !e.IsDone() {
			t.Fatalf("expected done, got %v %v", toRec(e), err)
		}
		if _, err := s.Next(); err != io.EOF {
			t.Fatal(err)
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	stream := []byte(strings.Repeat(chunk, 64) + strings.Repeat("data: a\ndata: b\n\n: ping\n\n", 16))
	r := bytes.NewReader(stream)
	s := NewScanner(r, 0)
	run := func() {
		r.Reset(stream)
		s.Reset(r)
		for {
			if _, err := s.Next(); err != nil {
				break
			}
		}
	}
	run() // warm up buffers
	if a := testing.AllocsPerRun(50, run); a != 0 {
		t.Errorf("scanner allocs per stream = %v", a)
	}
	dst := make([]byte, 0, 4096)
	data := []byte("hello\nworld")
	if a := testing.AllocsPerRun(100, func() {
		dst = AppendData(dst[:0], data)
		dst = AppendEvent(dst, []byte("x"), data)
		dst = AppendComment(dst, data)
	}); a != 0 {
		t.Errorf("writer allocs = %v", a)
	}
}

// chunkReader returns its chunks one per Read (as a socket does when
// the upstream sends one event at a time).
type chunkReader struct{ chunks []string }

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	if r.chunks[0] = r.chunks[0][n:]; r.chunks[0] == "" {
		r.chunks = r.chunks[1:]
	}
	return n, nil
}

// An open stream costs its buffer: one event per read keeps the small
// one; reads that fill it (a burst) grow it to burstBufSize, no more
// unless an event needs it.
func TestScannerBufferFollowsTheStream(t *testing.T) {
	ev := "data: " + strings.Repeat("x", 200) + "\n\n"
	var paced []string
	for range 50 {
		paced = append(paced, ev)
	}
	sc := NewScanner(&chunkReader{chunks: paced}, 0)
	for range 50 {
		if _, err := sc.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if len(sc.buf) != initialBufSize {
		t.Fatalf("paced stream: buffer %d, want %d", len(sc.buf), initialBufSize)
	}

	burst := strings.Repeat(ev, 200)
	sc.Reset(strings.NewReader(burst))
	for range 200 {
		if _, err := sc.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if len(sc.buf) != burstBufSize {
		t.Fatalf("burst: buffer %d, want %d", len(sc.buf), burstBufSize)
	}

	big := "data: " + strings.Repeat("y", 10<<10) + "\n\n"
	sc.Reset(strings.NewReader(big))
	if e, err := sc.Next(); err != nil || string(e.Data) != big[6:len(big)-2] {
		t.Fatalf("big event: %d data bytes, %v", len(e.Data), err)
	}
}
