package bedrock

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
	"testing"
)

// appendESMessage encodes one message (string headers only): the
// encoder side, for tests and the fake Bedrock.
func appendESMessage(dst []byte, headers [][2]string, payload []byte) []byte {
	var hb bytes.Buffer
	for _, h := range headers {
		hb.WriteByte(byte(len(h[0])))
		hb.WriteString(h[0])
		hb.WriteByte(7)
		_ = binary.Write(&hb, binary.BigEndian, uint16(len(h[1])))
		hb.WriteString(h[1])
	}
	total := esPreludeLen + hb.Len() + len(payload) + 4
	start := len(dst)
	dst = binary.BigEndian.AppendUint32(dst, uint32(total))
	dst = binary.BigEndian.AppendUint32(dst, uint32(hb.Len()))
	dst = binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:start+8]))
	dst = append(dst, hb.Bytes()...)
	dst = append(dst, payload...)
	return binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:]))
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	b []byte
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n, len(r.b))
	copy(p, r.b[:k])
	r.b = r.b[k:]
	return k, nil
}

func TestEventStreamDecodesAcrossAnySplit(t *testing.T) {
	var stream []byte
	payloads := []string{`{"role":"assistant"}`, strings.Repeat("x", 9000), "", `{"stopReason":"end_turn"}`}
	for i, p := range payloads {
		stream = appendESMessage(stream, [][2]string{{":event-type", "e" + strconv.Itoa(i)}, {":message-type", "event"}}, []byte(p))
	}
	for _, n := range []int{1, 3, 7, 12, 13, 100, 4096, 1 << 20} {
		d := newESDecoder(&chunkReader{b: stream, n: n}, 0)
		for i, want := range payloads {
			m, err := d.Next()
			if err != nil {
				t.Fatalf("split %d msg %d: %v", n, i, err)
			}
			if string(m.Payload) != want || string(m.Header(":event-type")) != "e"+strconv.Itoa(i) || string(m.Header(":message-type")) != "event" {
				t.Fatalf("split %d msg %d: headers %q payload %d bytes", n, i, m.Headers, len(m.Payload))
			}
		}
		if _, err := d.Next(); err != io.EOF {
			t.Fatalf("split %d: end = %v, want EOF", n, err)
		}
	}
}

func TestEventStreamRejectsCorruption(t *testing.T) {
	msg := appendESMessage(nil, [][2]string{{":event-type", "messageStart"}}, []byte(`{"role":"assistant"}`))
	for _, tc := range []struct {
		name string
		mut  func(b []byte) []byte
		want error
	}{
		{"prelude crc", func(b []byte) []byte { b[9] ^= 1; return b }, errEventStream},
		{"message crc", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, errEventStream},
		{"payload bit", func(b []byte) []byte { b[len(b)-6] ^= 1; return b }, errEventStream},
		{"truncated", func(b []byte) []byte { return b[:len(b)-3] }, io.ErrUnexpectedEOF},
		{"prelude only", func(b []byte) []byte { return b[:5] }, io.ErrUnexpectedEOF},
		{"huge length", func(b []byte) []byte {
			binary.BigEndian.PutUint32(b, 1<<30)
			binary.BigEndian.PutUint32(b[8:], crc32.ChecksumIEEE(b[:8]))
			return b
		}, errEventStream},
	} {
		b := tc.mut(append([]byte(nil), msg...))
		_, err := newESDecoder(bytes.NewReader(b), 0).Next()
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestEventStreamHeaderTypes(t *testing.T) {
	// Every header value type of the spec, hand-encoded.
	var h []byte
	add := func(name string, typ byte, val []byte) {
		h = append(h, byte(len(name)))
		h = append(h, name...)
		h = append(h, typ)
		h = append(h, val...)
	}
	add("t", 0, nil)
	add("f", 1, nil)
	add("b", 2, []byte{7})
	add("s", 3, []byte{0, 2})
	add("i", 4, []byte{0, 0, 0, 4})
	add("l", 5, make([]byte, 8))
	add("by", 6, []byte{0, 2, 'h', 'i'})
	add("str", 7, []byte{0, 3, 'a', 'b', 'c'})
	add("ts", 8, make([]byte, 8))
	add("u", 9, make([]byte, 16))
	total := 12 + len(h) + 2 + 4
	b := binary.BigEndian.AppendUint32(nil, uint32(total))
	b = binary.BigEndian.AppendUint32(b, uint32(len(h)))
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	b = append(append(b, h...), "{}"...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	m, err := newESDecoder(bytes.NewReader(b), 0).Next()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Headers) != 10 || string(m.Header("by")) != "hi" || string(m.Header("str")) != "abc" || len(m.Header("u")) != 16 || string(m.Payload) != "{}" {
		t.Fatalf("headers %q payload %q", m.Headers, m.Payload)
	}
}

// FuzzEventStream: arbitrary bytes never panic or hang the decoder, and
// every message it accepts re-encodes to the same bytes (its CRCs hold).
func FuzzEventStream(f *testing.F) {
	f.Add(appendESMessage(nil, [][2]string{{":event-type", "contentBlockDelta"}, {":message-type", "event"}}, []byte(`{"contentBlockIndex":0,"delta":{"text":"Hi"}}`)))
	f.Add(appendESMessage(appendESMessage(nil, nil, nil), [][2]string{{":exception-type", "throttlingException"}}, []byte(`{"message":"slow down"}`)))
	f.Add([]byte{0, 0, 0, 16, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, n := range []int{1, 5, 1 << 20} {
			d := newESDecoder(&chunkReader{b: data, n: n}, 0)
			consumed := 0
			for i := 0; i < len(data)/esMinMessage+1; i++ {
				m, err := d.Next()
				if err != nil {
					break
				}
				size := esMinMessage + len(m.Payload)
				for _, h := range m.Headers {
					size += 2 + len(h.Name) + len(h.Value)
					if h.Type == 6 || h.Type == 7 {
						size += 2
					}
				}
				if consumed+size > len(data) {
					t.Fatalf("message of %d bytes beyond the input", size)
				}
				frame := data[consumed : consumed+size]
				if crc32.ChecksumIEEE(frame[:size-4]) != binary.BigEndian.Uint32(frame[size-4:]) {
					t.Fatal("accepted a message whose CRC does not hold")
				}
				consumed += size
			}
		}
	})
}
