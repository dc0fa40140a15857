package transport

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http/httputil"
	"strings"
	"testing"
	"time"
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
	if err := l.wait(cli, 8<<10); err != nil || l.b[0] != 'H' {
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

// On a plain TCP connection the wait for an answer's first bytes reads
// them with one syscall and hands them all to the header reader: with
// the read deadline past, a second read of the socket would fail.
func TestLeadWaitReadsTheAnswerOnce(t *testing.T) {
	if !waitPooled {
		t.Skip("the pooled-buffer wait is off for upstream answers (waitPooled)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cli, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	answer := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
	go func() { _, _ = srv.Write([]byte(answer)) }()
	_ = cli.SetReadDeadline(time.Now().Add(10 * time.Second))
	var l leadByte
	if err := l.wait(cli, 8<<10); err != nil {
		t.Fatal(err)
	}
	_ = cli.SetReadDeadline(time.Unix(1, 0))
	got := make([]byte, 0, len(answer))
	buf := make([]byte, 16)
	for len(got) < len(answer) {
		n, err := l.Read(buf)
		if err != nil {
			t.Fatalf("after %q: %v (a second read syscall?)", got, err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != answer {
		t.Fatalf("got %q", got)
	}
}
