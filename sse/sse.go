// Package sse reads and writes Server-Sent Events in the WHATWG EventSource
// wire format.
//
// It owns exactly one thing: the framing of an SSE byte stream. The Scanner
// splits a stream into events (lines ending in "\n", "\r\n" or "\r"; events
// ending at a blank line; "name: value" fields; ":" comment lines; a leading
// UTF-8 BOM) and the Append* functions produce well-formed events.
//
// It must not touch anything else: no HTTP (no headers, status codes,
// flushing or connection handling), no JSON (Data is opaque bytes; error
// events are written by internal/errbody), no logging, and no imports
// outside the standard library.
//
// The package sits on the hot path of a proxy relaying many concurrent token
// streams, so it works on []byte, never copies an event it does not have to,
// and does not allocate per event once its buffers have grown to the size of
// the stream's largest event.
package sse

import (
	"bytes"
	"errors"
	"io"
)

// ErrEventTooLarge is returned by Scanner.Next when an event (including any
// blank lines buffered before it) does not fit in maxEventSize bytes. The
// stream cannot be resynchronised safely, so the error is sticky.
var ErrEventTooLarge = errors.New("sse: event too large")

// DefaultMaxEventSize is the event size cap used when NewScanner is given a
// non-positive maxEventSize.
const DefaultMaxEventSize = 1 << 20

const (
	// A stream starts with a small buffer: an LLM stream mostly sends one
	// event of a few hundred bytes per read, and 10,000 open streams hold
	// 10,000 buffers. A read that fills the buffer shows the upstream
	// is sending faster than one event at a time, so the buffer doubles,
	// up to burstBufSize, to take more events per read syscall. Events
	// larger than the buffer grow it whatever its size, up to the cap.
	initialBufSize = 1 << 10
	burstBufSize   = 4 << 10
	// Reset drops buffers that grew beyond this, so that scanners parked in a
	// sync.Pool do not pin one huge buffer each.
	maxRetainedBufSize = 64 << 10
	maxEmptyReads      = 100
)

var bom = []byte("\xEF\xBB\xBF")

// Event is one SSE event block. All slices alias the Scanner's buffers and
// are valid only until the next call to Scanner.Next or Scanner.Reset.
type Event struct {
	// Raw is the event's exact bytes including its terminating blank line.
	// Blank lines that preceded the event (and a leading BOM for the first
	// event of a stream) are included at the front, so concatenating Raw of
	// every event reproduces the stream and writing Raw unchanged is a
	// faithful pass-through.
	Raw []byte
	// Name is the value of the last "event:" field, nil if absent.
	Name []byte
	// ID is the value of the last "id:" field, nil if absent. Per the spec an
	// id value containing U+0000 NULL is ignored.
	ID []byte
	// Data is the value of the "data:" field(s), nil if absent. Multiple data
	// lines are joined with '\n'. A single data line is a subslice of Raw; for
	// several lines Data points into a scratch buffer owned by the Scanner.
	Data []byte
	// Retry is the value of the last "retry:" field whose value is a non-empty
	// run of ASCII digits (others are ignored per the spec), nil if absent.
	Retry []byte
	// Comment is true when the block consisted only of comment lines
	// (": ping" keep-alives).
	Comment bool
}

// IsDone reports whether the event's Data is exactly "[DONE]", the OpenAI
// end-of-stream sentinel.
func (e *Event) IsDone() bool { return string(e.Data) == "[DONE]" }

// span is a byte range relative to the start of the event being parsed, so
// that it stays valid when the buffer is compacted or grown.
type span struct{ lo, hi int }

// Scanner splits an SSE byte stream into events, reading from an io.Reader
// into an internal buffer. A Scanner is not safe for concurrent use.
type Scanner struct {
	r   io.Reader
	buf []byte
	max int

	start, end int   // buf[start:end] is unconsumed input
	err        error // sticky error from the reader (or ErrEventTooLarge)
	bomDone    bool

	// Incremental parse state of the event starting at buf[start]; offsets
	// are relative to start. Parsing resumes where it stopped so that small
	// reads do not rescan the buffered prefix.
	pos      int  // start of the next unparsed line
	scan     int  // buf[start+pos : start+scan] holds no line terminator
	ready    bool // a complete event ends at pos
	nonEmpty bool // the block has a non-blank line
	sawField bool // the block has a non-comment line
	name     span
	id       span
	retry    span
	hasName  bool
	hasID    bool
	hasRetry bool
	data     []span // values of data lines, joined in take

	scratch []byte // joined multi-line Data
}

// NewScanner returns a Scanner reading from r. maxEventSize caps the size of
// one event and therefore the buffer; maxEventSize <= 0 selects
// DefaultMaxEventSize. The buffer starts at 1 KiB and grows on demand.
func NewScanner(r io.Reader, maxEventSize int) *Scanner {
	if maxEventSize <= 0 {
		maxEventSize = DefaultMaxEventSize
	}
	return &Scanner{
		r:    r,
		max:  maxEventSize,
		buf:  make([]byte, min(initialBufSize, maxEventSize)),
		data: make([]span, 0, 4),
	}
}

// Reset discards all state and makes the Scanner read from r, keeping its
// buffers (unless they grew unusually large) so it can be pooled.
// The zero Scanner is usable after Reset, with DefaultMaxEventSize.
func (s *Scanner) Reset(r io.Reader) {
	if s.max <= 0 {
		s.max = DefaultMaxEventSize
	}
	if len(s.buf) == 0 || len(s.buf) > maxRetainedBufSize {
		s.buf = make([]byte, min(initialBufSize, s.max))
	}
	if cap(s.scratch) > maxRetainedBufSize {
		s.scratch = nil
	}
	s.r = r
	s.start, s.end = 0, 0
	s.err = nil
	s.bomDone = false
	s.resetEvent()
}

func (s *Scanner) resetEvent() {
	s.pos, s.scan = 0, 0
	s.ready, s.nonEmpty, s.sawField = false, false, false
	s.hasName, s.hasID, s.hasRetry = false, false, false
	s.data = s.data[:0]
}

// Next returns the next event. The Event's slices alias the Scanner's
// buffers and are valid only until the next call to Next or Reset.
//
// At a clean end of stream (no partial event pending) Next returns io.EOF.
// Blank lines after the last event dispatch nothing and appear in no Raw;
// everything else in the stream appears in exactly one Raw, in order. If the stream ends inside an event,
// Next returns io.ErrUnexpectedEOF with the partial bytes in Event.Raw (other
// fields unset); the following call returns io.EOF. Other read errors are
// reported the same way in place of io.ErrUnexpectedEOF. An event larger than
// maxEventSize yields ErrEventTooLarge, permanently.
func (s *Scanner) Next() (Event, error) {
	for !s.parse() {
		if s.err != nil {
			return s.finish()
		}
		s.fill()
	}
	return s.take(), nil
}

// Buffered reports whether a complete event is already buffered, i.e. the
// next call to Next will return without reading. A relay can flush its
// output only when !Buffered(). Buffered never reads and does not invalidate
// the last Event returned by Next.
func (s *Scanner) Buffered() bool { return s.parse() }

// finish handles a stream that ended (s.err != nil) without a complete event.
func (s *Scanner) finish() (Event, error) {
	if s.err == ErrEventTooLarge {
		return Event{}, s.err
	}
	pending := s.buf[s.start:s.end]
	s.start, s.end = 0, 0
	partial := s.nonEmpty || s.pos < len(pending)
	s.resetEvent()
	if !partial {
		// Only blank lines (or a lone BOM) were left: a clean end.
		return Event{}, s.err
	}
	err := s.err
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return Event{Raw: pending}, err
}

// fill reads more input, compacting or growing the buffer first. Errors,
// including ErrEventTooLarge, are stored in s.err.
func (s *Scanner) fill() {
	if s.start > 0 {
		n := copy(s.buf, s.buf[s.start:s.end])
		s.start, s.end = 0, n
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= s.max {
			s.err = ErrEventTooLarge
			return
		}
		nb := make([]byte, min(2*len(s.buf), s.max))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for range maxEmptyReads {
		n, err := s.r.Read(s.buf[s.end:])
		if n < 0 || n > len(s.buf)-s.end {
			s.err = errors.New("sse: reader returned invalid count")
			return
		}
		full := n > 0 && s.end+n == len(s.buf)
		s.end += n
		if full && len(s.buf) < burstBufSize && len(s.buf) < s.max {
			nb := make([]byte, min(2*len(s.buf), burstBufSize, s.max))
			copy(nb, s.buf[:s.end])
			s.buf = nb
		}
		if err != nil {
			s.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	s.err = io.ErrNoProgress
}

// parse advances the incremental parse over the buffered bytes and reports
// whether a complete event is buffered. It never reads and never moves data.
func (s *Scanner) parse() bool {
	if s.ready {
		return true
	}
	b := s.buf[s.start:s.end]
	if !s.bomDone {
		if len(b) < len(bom) && s.err == nil && bytes.HasPrefix(bom, b) {
			return false // could still become a BOM
		}
		if bytes.HasPrefix(b, bom) {
			s.pos, s.scan = len(bom), len(bom)
		}
		s.bomDone = true
	}
	for {
		i := indexLineEnd(b[s.scan:])
		if i < 0 {
			s.scan = len(b)
			return false
		}
		i += s.scan // absolute offset of the terminator within b
		term := 1
		if b[i] == '\r' {
			if i+1 < len(b) {
				if b[i+1] == '\n' {
					term = 2
				}
			} else if s.err == nil && i > s.pos {
				// "\r" ends the buffer: wait to see whether "\n" follows so a
				// split CRLF does not read as an extra blank line. A blank
				// line ending in a lone "\r" is not delayed: if "\n" follows
				// it is just one more blank line, which dispatches nothing.
				s.scan = i
				return false
			}
		}
		lineStart := s.pos
		line := b[lineStart:i]
		s.pos = i + term
		s.scan = s.pos
		if len(line) == 0 {
			if s.nonEmpty {
				s.ready = true
				return true
			}
			continue // blank lines before an event dispatch nothing
		}
		s.nonEmpty = true
		s.field(line, lineStart)
	}
}

// field records one non-blank line starting at offset off.
func (s *Scanner) field(line []byte, off int) {
	if line[0] == ':' {
		return // comment
	}
	s.sawField = true
	name, v := line, len(line)
	if c := bytes.IndexByte(line, ':'); c >= 0 {
		name, v = line[:c], c+1
		if v < len(line) && line[v] == ' ' {
			v++
		}
	}
	value := line[v:]
	sp := span{off + v, off + len(line)}
	switch string(name) {
	case "data":
		s.data = append(s.data, sp)
	case "event":
		s.name, s.hasName = sp, true
	case "id":
		if bytes.IndexByte(value, 0) < 0 {
			s.id, s.hasID = sp, true
		}
	case "retry":
		if isDigits(value) {
			s.retry, s.hasRetry = sp, true
		}
	}
}

// take builds the completed event and advances past it.
func (s *Scanner) take() Event {
	b := s.buf[s.start : s.start+s.pos : s.start+s.pos]
	ev := Event{Raw: b, Comment: !s.sawField}
	if s.hasName {
		ev.Name = b[s.name.lo:s.name.hi:s.name.hi]
	}
	if s.hasID {
		ev.ID = b[s.id.lo:s.id.hi:s.id.hi]
	}
	if s.hasRetry {
		ev.Retry = b[s.retry.lo:s.retry.hi:s.retry.hi]
	}
	switch len(s.data) {
	case 0:
	case 1:
		d := s.data[0]
		ev.Data = b[d.lo:d.hi:d.hi]
	default:
		j := s.scratch[:0]
		for k, d := range s.data {
			if k > 0 {
				j = append(j, '\n')
			}
			j = append(j, b[d.lo:d.hi]...)
		}
		s.scratch = j
		ev.Data = j[:len(j):len(j)]
	}
	s.start += s.pos
	if s.start == s.end {
		s.start, s.end = 0, 0
	}
	s.resetEvent()
	return ev
}

// indexLineEnd returns the index of the first '\r' or '\n' in b, or -1.
func indexLineEnd(b []byte) int {
	n := bytes.IndexByte(b, '\n')
	if n < 0 {
		return bytes.IndexByte(b, '\r')
	}
	if c := bytes.IndexByte(b[:n], '\r'); c >= 0 {
		return c
	}
	return n
}

func isDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
