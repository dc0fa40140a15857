package cache

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestFlightFansOutEventByEvent(t *testing.T) {
	fs := NewFlights()
	fk := FlightKey{Key: k(1), Form: 1}
	f, leader := fs.Join(fk)
	if !leader {
		t.Fatal("first join is not the leader")
	}
	const n = 5
	subs := make([]*Flight, n)
	for i := range subs {
		g, l := fs.Join(fk)
		if l || g != f {
			t.Fatal("an identical request started its own call")
		}
		subs[i] = g
	}
	var wg sync.WaitGroup
	outs := make([]*events, n)
	progress := make(chan int, n*len(chatStream))
	for i := range subs {
		outs[i] = &events{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &Subscriber{F: f, Fresh: true}
			w := &countingWriter{events: outs[i], progress: progress}
			if err := s.Relay(w); err != nil {
				t.Error(err)
			}
			f.Leave()
		}()
	}
	// Publish event by event; every subscriber gets each before the next.
	for i, ev := range chatStream {
		_, _ = f.Write([]byte(ev))
		_ = f.Flush()
		for range n {
			select {
			case <-progress:
			case <-time.After(5 * time.Second):
				t.Fatalf("event %d not fanned out", i)
			}
		}
	}
	f.End(nil, nil)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	wait(t, done, "subscribers")
	f.Leave()
	ids := map[string]bool{}
	for _, o := range outs {
		if len(o.flushed) != len(chatStream) {
			t.Fatalf("subscriber got %d events", len(o.flushed))
		}
		ids[o.flushed[0][strings.Index(o.flushed[0], "chatcmpl-"):][:21]] = true
	}
	if len(ids) != n {
		t.Fatalf("%d distinct ids for %d subscribers", len(ids), n)
	}
	if fs.InFlight() != 0 {
		t.Fatal("finished flight still listed")
	}
}

type countingWriter struct {
	*events
	progress chan int
}

func (w *countingWriter) Flush() error {
	err := w.events.Flush()
	w.progress <- 1
	return err
}

func TestFlightOnlyLastLeaverCancels(t *testing.T) {
	fs := NewFlights()
	fk := FlightKey{Key: k(2)}
	f, _ := fs.Join(fk)
	var canceled atomic.Int32
	f.SetCancel(func() { canceled.Add(1) })
	g, _ := fs.Join(fk)
	f.Leave()
	if canceled.Load() != 0 {
		t.Fatal("a leaving waiter canceled the call for the others")
	}
	stop := make(chan struct{})
	close(stop)
	if g.WaitHead(stop) {
		t.Fatal("head without an answer")
	}
	if err := (&Subscriber{F: g, Stop: stop}).Relay(&events{}); !errors.Is(err, ErrLeft) {
		t.Fatalf("stopped subscriber: %v", err)
	}
	g.Leave()
	if canceled.Load() != 1 {
		t.Fatal("the last one leaving did not cancel the call")
	}
	if _, err := f.Write([]byte("data: x\n\n")); err != nil || f.Flush() == nil {
		t.Fatal("the driver's relay is not told that everyone left")
	}
	// A request arriving now starts its own call.
	if _, leader := fs.Join(fk); !leader {
		t.Fatal("joined an abandoned flight")
	}
}

func TestFlightAnswerAndFailureReachWaiters(t *testing.T) {
	fs := NewFlights()
	f, _ := fs.Join(FlightKey{Key: k(3)})
	g, _ := fs.Join(FlightKey{Key: k(3)})
	body := []byte(`{"ok":true}`)
	go f.Answer([]byte("application/json"), body, "info")
	r := g.WaitDone()
	if string(r.Body) != `{"ok":true}` || r.Info != "info" {
		t.Fatalf("waiter got %+v", r)
	}
	body[1] = 'X' // the driver's buffer is reused: the flight kept a copy
	if string(g.Look(0).Body) != `{"ok":true}` {
		t.Fatal("flight shares the driver's buffer")
	}
	h, _ := fs.Join(FlightKey{Key: k(4)})
	i, _ := fs.Join(FlightKey{Key: k(4)})
	h.Fail("boom", nil)
	if r := i.WaitDone(); r.Failure != "boom" {
		t.Fatalf("waiter got failure %v", r.Failure)
	}
}
