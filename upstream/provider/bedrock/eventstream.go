package bedrock

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// AWS event stream framing (application/vnd.amazon.eventstream), as used
// by Bedrock's ConverseStream. Every message is
//
//	total length    uint32 big-endian (whole message, these 4 bytes included)
//	headers length  uint32 big-endian
//	prelude CRC     uint32, CRC-32 (IEEE) of the 8 bytes above
//	headers         name length (1 byte), name, value type (1 byte), value
//	payload
//	message CRC     uint32, CRC-32 of everything before it
//
// Header value types: 0 true, 1 false (no value), 2 byte, 3 int16,
// 4 int32, 5 int64, 6 bytes and 7 string (uint16 length + data),
// 8 timestamp (int64 ms), 9 UUID (16 bytes).
const (
	esPreludeLen = 12
	esMinMessage = esPreludeLen + 4
	// esMaxMessage and esMaxHeaders are the protocol's limits.
	esMaxMessage = 16 << 20
	esMaxHeaders = 128 << 10
)

// errEventStream reports a malformed event stream message.
var errEventStream = errors.New("malformed event stream message")

// esHeader is one decoded header. For string and bytes values Value is
// the data; for other types it is the raw big-endian value.
type esHeader struct {
	Name  []byte
	Type  byte
	Value []byte
}

// esMessage is one decoded message. Its slices point into the decoder's
// buffer and are valid until the next call to Next.
type esMessage struct {
	Headers []esHeader
	Payload []byte
}

// Header returns the value of the named header (nil when absent).
func (m *esMessage) Header(name string) []byte {
	for i := range m.Headers {
		if string(m.Headers[i].Name) == name {
			return m.Headers[i].Value
		}
	}
	return nil
}

// esDecoder reads event stream messages from r incrementally: it holds
// at most one message plus one read's worth of the next in its buffer,
// and hands out each message as soon as its last byte has arrived.
type esDecoder struct {
	r          io.Reader
	buf        []byte
	start, end int // unread data is buf[start:end]
	msg        esMessage
	err        error // sticky read error
}

func newESDecoder(r io.Reader, size int) *esDecoder {
	if size < 4096 {
		size = 4096
	}
	return &esDecoder{r: r, buf: make([]byte, size)}
}

// Buffered reports whether a complete message is already buffered (the
// caller may delay a flush).
func (d *esDecoder) Buffered() bool {
	n := d.end - d.start
	if n < esPreludeLen {
		return false
	}
	total := int(binary.BigEndian.Uint32(d.buf[d.start:]))
	return total >= esMinMessage && n >= total
}

// Next returns the next message. io.EOF means the stream ended cleanly
// between messages; io.ErrUnexpectedEOF that it ended inside one.
func (d *esDecoder) Next() (*esMessage, error) {
	if err := d.fill(esPreludeLen); err != nil {
		return nil, err
	}
	p := d.buf[d.start:]
	total := int(binary.BigEndian.Uint32(p[0:4]))
	hlen := int(binary.BigEndian.Uint32(p[4:8]))
	if crc32.ChecksumIEEE(p[0:8]) != binary.BigEndian.Uint32(p[8:12]) {
		return nil, fmt.Errorf("%w: prelude checksum mismatch", errEventStream)
	}
	if total < esMinMessage || total > esMaxMessage || hlen > esMaxHeaders || hlen > total-esMinMessage {
		return nil, fmt.Errorf("%w: bad lengths (total %d, headers %d)", errEventStream, total, hlen)
	}
	if err := d.fill(total); err != nil {
		return nil, err
	}
	m := d.buf[d.start : d.start+total]
	if crc32.ChecksumIEEE(m[:total-4]) != binary.BigEndian.Uint32(m[total-4:]) {
		return nil, fmt.Errorf("%w: message checksum mismatch", errEventStream)
	}
	d.start += total
	d.msg.Headers = d.msg.Headers[:0]
	h := m[esPreludeLen : esPreludeLen+hlen]
	for len(h) > 0 {
		nl := int(h[0])
		if nl == 0 || len(h) < 1+nl+1 {
			return nil, fmt.Errorf("%w: truncated header", errEventStream)
		}
		name := h[1 : 1+nl]
		typ := h[1+nl]
		h = h[2+nl:]
		var vlen int
		switch typ {
		case 0, 1:
			vlen = 0
		case 2:
			vlen = 1
		case 3:
			vlen = 2
		case 4:
			vlen = 4
		case 5, 8:
			vlen = 8
		case 9:
			vlen = 16
		case 6, 7:
			if len(h) < 2 {
				return nil, fmt.Errorf("%w: truncated header", errEventStream)
			}
			vlen = int(binary.BigEndian.Uint16(h))
			h = h[2:]
		default:
			return nil, fmt.Errorf("%w: unknown header value type %d", errEventStream, typ)
		}
		if len(h) < vlen {
			return nil, fmt.Errorf("%w: truncated header value", errEventStream)
		}
		d.msg.Headers = append(d.msg.Headers, esHeader{Name: name, Type: typ, Value: h[:vlen]})
		h = h[vlen:]
	}
	d.msg.Payload = m[esPreludeLen+hlen : total-4]
	return &d.msg, nil
}

// fill makes at least n unread bytes available, growing the buffer when
// one message is larger than it.
func (d *esDecoder) fill(n int) error {
	for d.end-d.start < n {
		if d.err != nil {
			if d.err == io.EOF && d.end == d.start {
				return io.EOF
			}
			if d.err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return d.err
		}
		if d.start > 0 && (d.start == d.end || len(d.buf)-d.start < n) {
			copy(d.buf, d.buf[d.start:d.end])
			d.end -= d.start
			d.start = 0
		}
		if n > len(d.buf) {
			nb := make([]byte, max(n, 2*len(d.buf)))
			copy(nb, d.buf[:d.end])
			d.buf = nb
		}
		k, err := d.r.Read(d.buf[d.end:])
		d.end += k
		if err != nil {
			d.err = err
		}
	}
	return nil
}
