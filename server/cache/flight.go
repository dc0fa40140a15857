package cache

import (
	"bytes"
	"errors"
	"sync"
)

// Flights coalesces identical requests in flight: the first one's
// upstream call is shared by every identical request that arrives
// before it ends, so a burst of N identical prompts costs one call.
type Flights struct {
	mu sync.Mutex
	m  map[FlightKey]*Flight
}

// FlightKey is a cache key and the answer's form: requests share a
// call only when they want the same form (stream or not, with or
// without the usage chunk).
type FlightKey struct {
	Key  Key
	Form uint8
}

// NewFlights returns an empty coalescer.
func NewFlights() *Flights { return &Flights{m: map[FlightKey]*Flight{}} }

// Flight is one upstream call shared by the requests that joined it.
// The driver (the goroutine making the call, started by the leader)
// publishes the answer: a complete body (Answer), a stream's events as
// they come (Write and Flush: Flight is the stream's writer) or a
// failure; subscribers read it at their own pace.
type Flight struct {
	fs  *Flights
	key FlightKey

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every publish
	refs    int
	cancel  func()

	head    bool // an answer (body, first event or failure) is known
	done    bool
	failure any   // what failed before the answer, for the server to write
	endErr  error // a stream's failure after its first event
	info    any   // the driver's facts for the leader (deployment, usage, ...)

	contentType, body []byte
	pending           []byte
	events            [][]byte
}

// Join returns the flight for k, creating it when none is in the air:
// leader is true for the request that must start its driver. Every Join
// is matched by one Leave.
func (fs *Flights) Join(k FlightKey) (f *Flight, leader bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f = fs.m[k]; f != nil {
		f.mu.Lock()
		f.refs++
		f.mu.Unlock()
		return f, false
	}
	f = &Flight{fs: fs, key: k, refs: 1, changed: make(chan struct{})}
	fs.m[k] = f
	return f, true
}

// Solo returns a flight no other request joins (a request that asked
// not to be answered from the cache): it still records the answer for
// storing.
func (fs *Flights) Solo(k FlightKey) *Flight {
	return &Flight{fs: fs, key: k, refs: 1, changed: make(chan struct{})}
}

// InFlight returns the number of flights in the air.
func (fs *Flights) InFlight() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.m)
}

// SetCancel sets what stops the call when every subscriber has left.
func (f *Flight) SetCancel(cancel func()) {
	f.mu.Lock()
	f.cancel = cancel
	gone := f.refs == 0 && !f.done
	f.mu.Unlock()
	if gone {
		cancel()
	}
}

// Leave ends a subscriber's interest. The last one to leave a flight
// still in the air cancels its call; the others leaving never do.
func (f *Flight) Leave() {
	f.mu.Lock()
	f.refs--
	last := f.refs == 0 && !f.done
	cancel := f.cancel
	f.mu.Unlock()
	if last {
		f.unlist()
		if cancel != nil {
			cancel()
		}
	}
}

// unlist removes f from the coalescer: later requests start their own.
func (f *Flight) unlist() {
	f.fs.mu.Lock()
	if f.fs.m[f.key] == f {
		delete(f.fs.m, f.key)
	}
	f.fs.mu.Unlock()
}

// publish wakes every subscriber. Called with mu held.
func (f *Flight) publish() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// SetInfo publishes the driver's facts before the answer is complete
// (a stream's deployment, known at its first event).
func (f *Flight) SetInfo(info any) {
	f.mu.Lock()
	f.info = info
	f.mu.Unlock()
}

// Answer publishes a complete answer and ends the flight.
func (f *Flight) Answer(contentType, body []byte, info any) {
	f.unlist()
	f.mu.Lock()
	f.contentType, f.body = bytes.Clone(contentType), bytes.Clone(body)
	f.head, f.done, f.info = true, true, info
	f.publish()
	f.mu.Unlock()
}

// Fail publishes a failure before any answer and ends the flight.
func (f *Flight) Fail(failure, info any) {
	f.unlist()
	f.mu.Lock()
	f.failure, f.info = failure, info
	f.head, f.done = true, true
	f.publish()
	f.mu.Unlock()
}

// Write implements Writer for the driver's stream relay.
func (f *Flight) Write(p []byte) (int, error) {
	f.mu.Lock()
	f.pending = append(f.pending, p...)
	f.mu.Unlock()
	return len(p), nil
}

// Flush implements Writer: the complete events written so far go out
// to the subscribers, one by one.
func (f *Flight) Flush() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.events)
	for {
		i := bytes.Index(f.pending, []byte("\n\n"))
		if i < 0 {
			break
		}
		f.events = append(f.events, bytes.Clone(f.pending[:i+2]))
		f.pending = f.pending[i+2:]
	}
	if len(f.events) > n {
		f.head = true
		f.publish()
	}
	if f.refs == 0 {
		return errAllGone
	}
	return nil
}

var errAllGone = errors.New("every client of the call left")

// End ends a stream: err is nil when it ended cleanly, else the failure
// Relay returned (its error event is among the events).
func (f *Flight) End(err error, info any) {
	f.unlist()
	f.mu.Lock()
	if len(f.pending) > 0 {
		f.events = append(f.events, bytes.Clone(f.pending))
		f.pending = nil
	}
	f.endErr, f.info = err, info
	f.head, f.done = true, true
	f.publish()
	f.mu.Unlock()
}

// Events returns the stream's events (valid once the flight is done).
func (f *Flight) Events() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.events
}

// Result is what a subscriber sees of a flight at one moment.
type Result struct {
	// Head: an answer is known; Done: nothing more will come.
	Head, Done bool
	// Failure is the driver's failure before an answer (nil if none).
	Failure any
	// ContentType and Body are a complete answer; Events the stream's
	// events from the subscriber's position on.
	ContentType, Body []byte
	Events            [][]byte
	// EndErr is a stream's failure after its first event.
	EndErr error
	// Info is the driver's facts, set when Done.
	Info any
	// Changed is closed when there is more to see.
	Changed <-chan struct{}
}

// Look returns what the flight holds from event from on.
func (f *Flight) Look(from int) Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := Result{Head: f.head, Done: f.done, Failure: f.failure, ContentType: f.contentType, Body: f.body,
		EndErr: f.endErr, Info: f.info, Changed: f.changed}
	if from < len(f.events) {
		r.Events = f.events[from:]
	}
	return r
}

// ErrLeft is what a subscriber's Relay returns when its client left:
// a write to it failed, or its stop channel closed, before the stream
// ended.
var ErrLeft = errors.New("client left while waiting for a shared call")

// WaitHead blocks until the flight has an answer (true) or stop closes
// (false).
func (f *Flight) WaitHead(stop <-chan struct{}) bool {
	for {
		r := f.Look(0)
		if r.Head {
			return true
		}
		select {
		case <-r.Changed:
		case <-stop:
			return false
		}
	}
}

// WaitDone blocks until the flight is done.
func (f *Flight) WaitDone() Result {
	for {
		r := f.Look(0)
		if r.Done {
			return r
		}
		<-r.Changed
	}
}

// Subscriber relays a streaming flight to one client, event by event
// as the driver publishes them, each flushed alone. Fresh makes it
// replace the answer's id and timestamp (every subscriber but the
// leader, so that no two clients get one id).
type Subscriber struct {
	F     *Flight
	Stop  <-chan struct{}
	Fresh bool
	rp    Replay
	next  int
	ready bool
}

// Relay implements the server's stream interface.
func (s *Subscriber) Relay(w Writer) error {
	for {
		r := s.F.Look(s.next)
		for _, ev := range r.Events {
			out := ev
			if s.Fresh {
				if !s.ready {
					s.ready = true
					e := Entry{}
					e.ID, e.Created = idAndCreated(eventData(ev))
					s.rp.Reset(&e, false, nowFunc())
				}
				s.rp.buf = patch(s.rp.buf[:0], ev, s.rp.e.ID, s.rp.id, s.rp.e.Created, s.rp.created)
				out = s.rp.buf
			}
			if _, err := w.Write(out); err != nil {
				return ErrLeft
			}
			if err := w.Flush(); err != nil {
				return ErrLeft
			}
			s.next++
		}
		if r.Done && len(r.Events) == 0 {
			return r.EndErr
		}
		if r.Done {
			continue
		}
		select {
		case <-r.Changed:
		case <-s.Stop:
			return ErrLeft
		}
	}
}
