package cache

import (
	"encoding/binary"
	"errors"
	"time"
)

// Kind is the form an answer was stored in.
type Kind byte

const (
	// KindJSON is a complete (non-stream) answer body.
	KindJSON Kind = 1
	// KindStream is a streamed answer as its SSE events.
	KindStream Kind = 2
)

// Entry is a stored answer. It is immutable once stored: readers share
// it without copying.
type Entry struct {
	Kind Kind
	// ContentType of a KindJSON answer.
	ContentType []byte
	// Body is a KindJSON answer.
	Body []byte
	// Events are a KindStream answer's SSE events as the client got
	// them, each complete with its blank line ("data: {...}\n\n").
	Events [][]byte
	// UsageEvent is the index in Events of the usage-only chunk (chat
	// and completions with stream_options.include_usage), -1 when none:
	// a replay to a client that did not ask for usage leaves it out.
	UsageEvent int
	// ID is the answer's id ("chatcmpl-…", "resp_…") and Created its
	// timestamp digits, replaced on every replay; empty when none.
	ID, Created []byte
	// Tokens is what the answer cost upstream (prompt + completion):
	// what a hit saves.
	Tokens int64
	// Expires is when the entry stops being served (Unix milliseconds;
	// 0 = never). Stores with their own expiry (Redis) set it too, so an
	// entry read back is checked the same way everywhere. Milliseconds,
	// not seconds: a second's truncation cut a 1s TTL to as little as a
	// few milliseconds.
	Expires int64
	// Stored is when the answer was stored (Unix milliseconds), for a
	// request's s-maxage.
	Stored int64
}

// Size is what e costs a store's byte budget.
func (e *Entry) Size() int {
	n := 96 + len(e.ContentType) + len(e.Body) + len(e.ID) + len(e.Created)
	for _, ev := range e.Events {
		n += 24 + len(ev)
	}
	return n
}

// Expired reports whether e is past its expiry at now.
func (e *Entry) Expired(now time.Time) bool {
	return e.Expires != 0 && now.UnixMilli() >= e.Expires
}

// entryMagic starts every encoded entry; a change of layout changes it,
// so an old entry on disk or in Redis reads as a miss.
const entryMagic = "llmc2"

var errCorrupt = errors.New("cache entry is corrupt")

// Encode appends e's stored form to dst.
func (e *Entry) Encode(dst []byte) []byte {
	dst = append(dst, entryMagic...)
	dst = append(dst, byte(e.Kind))
	dst = binary.AppendVarint(dst, e.Expires)
	dst = binary.AppendVarint(dst, e.Stored)
	dst = binary.AppendVarint(dst, e.Tokens)
	dst = binary.AppendVarint(dst, int64(e.UsageEvent))
	for _, f := range [...][]byte{e.ContentType, e.ID, e.Created, e.Body} {
		dst = binary.AppendUvarint(dst, uint64(len(f)))
		dst = append(dst, f...)
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.Events)))
	for _, ev := range e.Events {
		dst = binary.AppendUvarint(dst, uint64(len(ev)))
		dst = append(dst, ev...)
	}
	return dst
}

// Decode reads an entry Encode wrote. The entry's fields alias b.
func Decode(b []byte) (*Entry, error) {
	if len(b) < len(entryMagic)+1 || string(b[:len(entryMagic)]) != entryMagic {
		return nil, errCorrupt
	}
	d := decoder{b: b[len(entryMagic):]}
	e := &Entry{Kind: Kind(d.byte())}
	e.Expires = d.varint()
	e.Stored = d.varint()
	e.Tokens = d.varint()
	e.UsageEvent = int(d.varint())
	e.ContentType, e.ID, e.Created, e.Body = d.bytes(), d.bytes(), d.bytes(), d.bytes()
	n := d.uvarint()
	if d.bad || n > uint64(len(d.b)) {
		return nil, errCorrupt
	}
	if n > 0 {
		e.Events = make([][]byte, n)
		for i := range e.Events {
			e.Events[i] = d.bytes()
		}
	}
	if d.bad || len(d.b) != 0 || (e.Kind != KindJSON && e.Kind != KindStream) || e.UsageEvent >= len(e.Events) {
		return nil, errCorrupt
	}
	return e, nil
}

type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.bad = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.b)) {
		d.bad = true
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}
