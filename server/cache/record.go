package cache

import (
	"bytes"

	"github.com/llmedge/llmedge/internal/jsonx"
)

// Recorder collects a stream's events as the client gets them (it is
// written to like the client's stream). Its events become an Entry when
// the stream ended cleanly.
type Recorder struct {
	// Max bounds the bytes recorded; past it the recording is dropped
	// (Over) and the stream is not stored.
	Max     int
	pending []byte
	events  [][]byte
	size    int
	over    bool
}

// Write implements Writer.
func (r *Recorder) Write(p []byte) (int, error) {
	if r.over {
		return len(p), nil
	}
	r.pending = append(r.pending, p...)
	if r.Max > 0 && r.size+len(r.pending) > r.Max {
		r.over = true
		r.pending, r.events = nil, nil
	}
	return len(p), nil
}

// Flush implements Writer: complete events become recorded events.
func (r *Recorder) Flush() error {
	for !r.over {
		i := bytes.Index(r.pending, []byte("\n\n"))
		if i < 0 {
			return nil
		}
		ev := bytes.Clone(r.pending[:i+2])
		r.pending = r.pending[i+2:]
		r.events = append(r.events, ev)
		r.size += len(ev)
	}
	return nil
}

// Events returns the events recorded so far (nil once over Max).
func (r *Recorder) Events() [][]byte { return r.events }

// Over reports whether the stream passed Max.
func (r *Recorder) Over() bool { return r.over }

// StreamEntry makes the entry of a cleanly ended stream made of events.
func StreamEntry(events [][]byte) *Entry {
	e := &Entry{Kind: KindStream, Events: events, UsageEvent: -1}
	for i, ev := range events {
		data := eventData(ev)
		if e.ID == nil {
			e.ID, e.Created = idAndCreated(data)
		}
		if isUsageOnly(data) {
			e.UsageEvent = i
		}
	}
	return e
}

// JSONEntry makes the entry of a complete answer.
func JSONEntry(contentType, body []byte) *Entry {
	e := &Entry{Kind: KindJSON, ContentType: bytes.Clone(contentType), Body: bytes.Clone(body), UsageEvent: -1}
	e.ID, e.Created = idAndCreated(e.Body)
	return e
}

// eventData returns the first data line's value of an SSE event.
func eventData(ev []byte) []byte {
	for len(ev) > 0 {
		line := ev
		if i := bytes.IndexByte(ev, '\n'); i >= 0 {
			line, ev = ev[:i], ev[i+1:]
		} else {
			ev = nil
		}
		if d, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			return bytes.TrimLeft(d, " ")
		}
	}
	return nil
}

// isUsageOnly reports whether a chunk is the usage-only chunk that
// stream_options.include_usage adds: no choices, a usage object.
func isUsageOnly(data []byte) bool {
	u := jsonx.Get(data, "usage")
	if len(u) == 0 || u[0] != '{' {
		return false
	}
	ch := jsonx.Get(data, "choices")
	return len(ch) >= 2 && ch[0] == '[' && len(bytes.TrimSpace(ch[1:len(ch)-1])) == 0
}
