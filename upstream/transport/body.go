package transport

import (
	"bufio"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/llmedge/llmedge/internal/firstread"

	"github.com/valyala/fasthttp"
)

// A response body is read by the exchange itself rather than through
// fasthttp's body stream: the bytes the header read left buffered come
// first, then every read goes from the connection straight into the
// caller's buffer (the SSE scanner's), where chunked framing is removed
// in place. So the 8 KiB header reader goes back to its pool before the
// first event is relayed, instead of staying with the stream for its
// whole life (10,000 open streams hold 80 MB less), and an event is
// copied once, not twice.

// leadByte is the first bytes of an answer, waited for without a read
// buffer (wait), then given to the header reader ahead of the rest of
// the connection. On a plain TCP connection the wait parks in the poller
// and the read that ends it takes a pooled buffer (package firstread):
// no read syscall more than a buffered read. Otherwise (TLS, a tunnel,
// in-memory connections) the first byte is read on its own.
type leadByte struct {
	b     [1]byte
	given bool
	conn  net.Conn
	first firstread.Lead
}

// wait reads the answer's first bytes, parked in the poller without a
// buffer until they come.
func (l *leadByte) wait(conn net.Conn, readSize int) error {
	l.conn, l.given = conn, false
	if rc := plainSocket(conn); rc != nil && waitPooled {
		l.given = true
		return l.first.Wait(rc.Read, readSize)
	}
	for {
		n, err := conn.Read(l.b[:])
		if n == 1 {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Read hands over the lead byte with whatever follows it at once, then
// reads the connection.
func (l *leadByte) Read(p []byte) (int, error) {
	if l.first.Buffered() > 0 {
		return l.first.Read(p), nil
	}
	if l.given || len(p) == 0 {
		return l.conn.Read(p)
	}
	l.given = true
	p[0] = l.b[0]
	n, err := l.conn.Read(p[1:])
	return n + 1, err
}

// readConn reads the connection: first what the lead's read took from
// it that the header reader had no room for.
func (x *Exchange) readConn(p []byte) (int, error) {
	if x.lead.first.Buffered() > 0 {
		return x.lead.first.Read(p), nil
	}
	return x.conn.Read(p)
}

// readSide is the connection an exchange reads from: conn itself, or
// the connection an idle-probe wrapper holds (the wrapper changes
// closing, not read deadlines), unless the wrapper reads a plain socket
// itself (rawio).
func readSide(conn net.Conn) net.Conn {
	if t, ok := conn.(*trackedConn); ok && !t.io.Ready() {
		return t.Conn
	}
	return conn
}

// waitPooled turns the pooled-buffer wait on for upstream answers. Off:
// the wait runs deep in the connection goroutine's stack, and taking a
// buffer there allocates it when the pool is empty (after a GC), which
// grew that stack past 8 KiB in 2 of 50 runs of server's
// TestStreamStackWithin8K; the answer's first byte is read alone until
// the wait can take a buffer without allocating.
const waitPooled = false

// plainSocket is the socket under conn when conn reads it as it is (no
// TLS or other layer in between), else nil.
func plainSocket(conn net.Conn) syscall.RawConn {
	if t, ok := conn.(*trackedConn); ok {
		if t.io.Ready() { // a plain socket (trackConn): its waits keep its deadlines
			return t.io.RawConn()
		}
		return nil
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		if rc, err := tc.SyscallConn(); err == nil {
			return rc
		}
	}
	return nil
}

// bodyFraming is how the end of a response body is found.
type bodyFraming uint8

const (
	bodyNone    bodyFraming = iota // 1xx, 204, 304: no body
	bodyLength                     // Content-Length
	bodyChunked                    // Transfer-Encoding: chunked
	bodyClose                      // neither: the body ends when the upstream closes
)

// maxInterimResponses bounds the 1xx responses skipped before the
// answer.
const maxInterimResponses = 8

var errTooManyInterim = errors.New("upstream sent too many 1xx responses")

// readResponseHeader reads the answer's status line and headers,
// skipping interim 1xx responses (101 ends the exchange as it is).
func readResponseHeader(resp *fasthttp.Response, br *bufio.Reader) error {
	resp.ResetBody()
	for range maxInterimResponses {
		if err := resp.Header.Read(br); err != nil {
			return err
		}
		if s := resp.StatusCode(); s < 100 || s > 199 || s == fasthttp.StatusSwitchingProtocols {
			return nil
		}
	}
	return errTooManyInterim
}

// bodyFramingOf says how the body of resp ends (RFC 9112 section 6.3).
func bodyFramingOf(resp *fasthttp.Response) bodyFraming {
	switch s := resp.StatusCode(); {
	case s < 200, s == fasthttp.StatusNoContent, s == fasthttp.StatusNotModified:
		return bodyNone
	}
	switch cl := resp.Header.ContentLength(); {
	case cl >= 0:
		return bodyLength
	case cl == -1:
		return bodyChunked
	}
	return bodyClose
}

// errMalformedChunk is a chunked body whose framing is broken.
var errMalformedChunk = errors.New("upstream sent a malformed chunked body")

// maxChunkTrailer bounds the trailer section of a chunked body.
const maxChunkTrailer = 8 << 10

// chunkState is where a chunkDecoder is in the framing.
type chunkState uint8

const (
	chunkSize        chunkState = iota // hex digits of a chunk size
	chunkSizeSpace                     // whitespace after the size
	chunkExt                           // ";ext" up to the CR
	chunkSizeLF                        // the LF ending the size line
	chunkData                          // chunk bytes
	chunkDataCR                        // the CR after the data
	chunkDataLF                        // the LF after the data
	chunkTrailer                       // start of a trailer line (or the final CRLF)
	chunkTrailerLine                   // inside a trailer field line
	chunkTrailerLF                     // the LF of the final empty line
	chunkDone
)

// chunkDecoder removes chunked transfer coding (RFC 9112 section 7.1)
// incrementally: the input may be cut anywhere. The zero value expects
// the first chunk-size line.
type chunkDecoder struct {
	state   chunkState
	digits  uint8
	left    uint64 // bytes left in the current chunk
	trailer int    // trailer bytes seen
}

// maxChunkDigits bounds a chunk size to 2^60 bytes: nothing real comes
// near, and the sum cannot overflow.
const maxChunkDigits = 15

// decode strips the framing from b in place. It returns the number of
// body bytes now at the front of b, the number of bytes that followed
// the end of the body (0 unless done), and whether the body ended.
func (d *chunkDecoder) decode(b []byte) (n, extra int, done bool, err error) {
	i := 0
	for i < len(b) {
		if d.state == chunkData {
			k := len(b) - i
			if uint64(k) > d.left {
				k = int(d.left)
			}
			n += copy(b[n:], b[i:i+k])
			i += k
			d.left -= uint64(k)
			if d.left == 0 {
				d.state = chunkDataCR
			}
			continue
		}
		c := b[i]
		i++
		switch d.state {
		case chunkSize:
			v, ok := unhex(c)
			switch {
			case ok:
				if d.digits == maxChunkDigits {
					return n, 0, false, errMalformedChunk
				}
				d.digits++
				d.left = d.left<<4 | uint64(v)
			case d.digits == 0:
				return n, 0, false, errMalformedChunk
			case c == ' ' || c == '\t':
				d.state = chunkSizeSpace
			case c == ';':
				d.state = chunkExt
			case c == '\r':
				d.state = chunkSizeLF
			default:
				return n, 0, false, errMalformedChunk
			}
		case chunkSizeSpace:
			switch c {
			case ' ', '\t':
			case ';':
				d.state = chunkExt
			case '\r':
				d.state = chunkSizeLF
			default:
				return n, 0, false, errMalformedChunk
			}
		case chunkExt:
			switch {
			case c == '\r':
				d.state = chunkSizeLF
			case c == '\n':
				return n, 0, false, errMalformedChunk
			default:
				// Extensions are ignored; their length counts against the
				// trailer bound so a size line cannot go on forever.
				if d.trailer++; d.trailer > maxChunkTrailer {
					return n, 0, false, errMalformedChunk
				}
			}
		case chunkSizeLF:
			if c != '\n' {
				return n, 0, false, errMalformedChunk
			}
			d.digits = 0
			if d.left == 0 {
				d.state = chunkTrailer
			} else {
				d.state = chunkData
			}
		case chunkDataCR:
			if c != '\r' {
				return n, 0, false, errMalformedChunk
			}
			d.state = chunkDataLF
		case chunkDataLF:
			if c != '\n' {
				return n, 0, false, errMalformedChunk
			}
			d.state = chunkSize
		case chunkTrailer:
			if c == '\r' {
				d.state = chunkTrailerLF
			} else {
				d.state = chunkTrailerLine
			}
		case chunkTrailerLine:
			if d.trailer++; d.trailer > maxChunkTrailer {
				return n, 0, false, errMalformedChunk
			}
			if c == '\n' {
				d.state = chunkTrailer
			}
		case chunkTrailerLF:
			if c != '\n' {
				return n, 0, false, errMalformedChunk
			}
			d.state = chunkDone
			return n, len(b) - i, true, nil
		case chunkDone:
			return n, len(b) - i + 1, true, nil
		}
	}
	return n, 0, d.state == chunkDone, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// readBody reads the next body bytes into p. It returns io.EOF with
// the last bytes or alone once the body is complete, and
// io.ErrUnexpectedEOF when the upstream closed before that.
func (x *Exchange) readBody(p []byte) (int, error) {
	switch x.framing {
	case bodyLength:
		if x.left == 0 {
			return 0, io.EOF
		}
		if uint64(len(p)) > x.left {
			p = p[:x.left]
		}
		n, err := x.readRaw(p)
		x.left -= uint64(n)
		switch {
		case x.left == 0:
			return n, io.EOF
		case err == io.EOF:
			return n, io.ErrUnexpectedEOF
		}
		return n, err
	case bodyChunked:
		for {
			n, err := x.readRaw(p)
			m, extra, done, derr := x.chunks.decode(p[:n])
			switch {
			case derr != nil:
				return m, derr
			case done:
				if extra > 0 || (x.br != nil && x.br.Buffered() > 0) || x.lead.first.Buffered() > 0 {
					// Bytes after the end of the body: the connection
					// is not at a message boundary and cannot be reused.
					x.failed = true
				}
				return m, io.EOF
			case err == io.EOF:
				return m, io.ErrUnexpectedEOF
			case err != nil || m > 0:
				return m, err
			}
			// Only framing arrived: read on.
		}
	case bodyClose:
		return x.readRaw(p)
	}
	return 0, io.EOF
}

// readRaw reads what the header read left buffered, then the
// connection itself. The header reader goes back to its pool as soon as
// it is drained.
func (x *Exchange) readRaw(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if x.br == nil {
		return x.readConn(p)
	}
	var n int
	var err error
	if x.br.Buffered() > 0 {
		n, err = x.br.Read(p)
	} else {
		n, err = x.readConn(p)
	}
	if x.br.Buffered() == 0 {
		x.Pool.client().ReleaseReader(x.br)
		x.br = nil
	}
	return n, err
}
