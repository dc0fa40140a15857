package cache

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/llmedge/llmedge/internal/jsonx"
)

// Writer is what a replay writes to: the client's stream, one Flush
// per event.
type Writer interface {
	Write(p []byte) (int, error)
	Flush() error
}

// Replay serves one stored answer to one client: the id and the
// timestamp are fresh, everything else is as stored. Reusable.
type Replay struct {
	e         *Entry
	skipUsage bool
	id        []byte
	created   []byte
	buf       []byte
}

// Reset makes r replay e. skipUsage leaves out the usage-only chunk
// (the client did not ask for it).
func (r *Replay) Reset(e *Entry, skipUsage bool, now time.Time) {
	r.e, r.skipUsage = e, skipUsage
	r.id = freshID(r.id[:0], e.ID)
	r.created = r.created[:0]
	if len(e.Created) > 0 {
		r.created = strconv.AppendInt(r.created, now.Unix(), 10)
	}
}

// Release drops the entry and oversized buffers.
func (r *Replay) Release() {
	r.e = nil
	if cap(r.buf) > 64<<10 {
		r.buf = nil
	}
}

// AppendBody appends the JSON answer with its fresh id and timestamp.
func (r *Replay) AppendBody(dst []byte) []byte {
	return patch(dst, r.e.Body, r.e.ID, r.id, r.e.Created, r.created)
}

// Relay writes the stored events, each as the stored bytes with a fresh
// id and timestamp, each flushed alone: the client sees the events it
// would have seen from the upstream, never one aggregated chunk.
func (r *Replay) Relay(w Writer) error {
	for i, ev := range r.e.Events {
		if r.skipUsage && i == r.e.UsageEvent {
			continue
		}
		r.buf = patch(r.buf[:0], ev, r.e.ID, r.id, r.e.Created, r.created)
		if _, err := w.Write(r.buf); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}

const idChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// freshID appends an id like old: the same prefix (up to its last '-'
// or '_', "chatcmpl-", "resp_") and as many random characters as old
// had after it, so a patched answer keeps its length.
func freshID(dst, old []byte) []byte {
	if len(old) == 0 {
		return dst
	}
	p := bytes.LastIndexAny(old, "-_") + 1
	dst = append(dst, old[:p]...)
	for range len(old) - p {
		dst = append(dst, idChars[rand.IntN(len(idChars))])
	}
	return dst
}

// patch appends src to dst with every occurrence of the id oldID
// replaced by newID and the "created" / "created_at" value oldTS by
// newTS.
func patch(dst, src, oldID, newID, oldTS, newTS []byte) []byte {
	for len(src) > 0 {
		i := -1
		if len(oldID) > 0 {
			i = bytes.Index(src, oldID)
		}
		j := -1
		if len(oldTS) > 0 {
			j = timestampAt(src, oldTS)
		}
		switch {
		case i < 0 && j < 0:
			return append(dst, src...)
		case j < 0 || (i >= 0 && i < j):
			dst = append(dst, src[:i]...)
			dst = append(dst, newID...)
			src = src[i+len(oldID):]
		default:
			dst = append(dst, src[:j]...)
			dst = append(dst, newTS...)
			src = src[j+len(oldTS):]
		}
	}
	return dst
}

// timestampAt returns the index of the first ts in b that is the value
// of a "created" or "created_at" member, -1 when none.
func timestampAt(b, ts []byte) int {
	off := 0
	for {
		i := bytes.Index(b[off:], ts)
		if i < 0 {
			return -1
		}
		i += off
		end := i + len(ts)
		if (end == len(b) || b[end] < '0' || b[end] > '9') && isCreatedValue(b[:i]) {
			return i
		}
		off = i + 1
	}
}

// isCreatedValue reports whether head ends with `"created":` or
// `"created_at":` (spaces allowed around the colon).
func isCreatedValue(head []byte) bool {
	k := len(head)
	for k > 0 && (head[k-1] == ' ' || head[k-1] == '\t' || head[k-1] == '\n' || head[k-1] == '\r') {
		k--
	}
	if k == 0 || head[k-1] != ':' {
		return false
	}
	k--
	for k > 0 && (head[k-1] == ' ' || head[k-1] == '\t' || head[k-1] == '\n' || head[k-1] == '\r') {
		k--
	}
	head = head[:k]
	return bytes.HasSuffix(head, []byte(`"created"`)) || bytes.HasSuffix(head, []byte(`"created_at"`))
}

// idAndCreated finds an answer's id and timestamp in a JSON object: at
// its top level ("id", "created") or in its "response" member (a
// Responses API event).
func idAndCreated(obj []byte) (id, created []byte) {
	idv, cv := jsonx.Get2(obj, "id", "created")
	if idv == nil {
		if r := jsonx.Get(obj, "response"); r != nil {
			idv, cv = jsonx.Get2(r, "id", "created_at")
		}
	} else if cv == nil {
		cv = jsonx.Get(obj, "created_at")
	}
	id = jsonx.StrVal(idv)
	if len(id) < 8 || bytes.IndexByte(id, '\\') >= 0 {
		id = nil // too short to replace safely by value
	}
	for _, c := range cv {
		if c < '0' || c > '9' {
			return id, nil
		}
	}
	if len(cv) < 6 {
		cv = nil
	}
	return id, cv
}
