//go:build linux

package server

import (
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/llmedge/llmedge/server/connwatch"
)

// The disconnect watcher through the server: a client that leaves is
// noticed by the epoll poller (connwatch) and its upstream call ends.

func pollRegistrations() uint64 { n, _ := connwatch.PollStats(); return n }
func pollWatching() int         { _, n := connwatch.PollStats(); return n }

// A client that closes mid-stream over a real TCP socket is noticed by
// the epoll poller (not a goroutine) and the upstream call is closed
// promptly; nothing stays registered.
func TestEpollWatchCancelsMidStream(t *testing.T) {
	up := newFakeOpenAI(t)
	gate := make(chan struct{}) // never opened
	up.setHandler(streamWords([]string{"first", "second"}, 0, gate))
	gw := startGateway(t, testConfig(dep(0, "m", "openai/m", up.base(), "k")))
	before := pollRegistrations()
	conn, br := rawStreamOpen(t, gw, `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`)
	readEvent(t, conn, br)
	readEvent(t, conn, br)
	waitFor(t, 3*time.Second, "the epoll registration", func() bool { return pollRegistrations() > before })
	closed := time.Now()
	conn.Close()
	select {
	case <-up.closed:
	case <-time.After(3 * time.Second):
		t.Fatal("upstream did not see the close within 3s")
	}
	if d := time.Since(closed); d > time.Second {
		t.Errorf("upstream closed %s after the client: not prompt", d)
	}
	waitFor(t, 3*time.Second, "in-flight back to 0", func() bool { return gw.srv.InFlight() == 0 })
	waitFor(t, 3*time.Second, "no registration left", func() bool { return pollWatching() == 0 })
}

// A client that shuts its write side while waiting for a non-stream
// answer gets its call canceled (as the goroutine watcher's peek did).
func TestEpollWatchHalfCloseCancels(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	gw := startGateway(t, testConfig(dep(0, "m", "openai/m", up.base(), "k")))
	before := pollRegistrations()
	c, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	writeRequest(t, c, "POST", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, "Authorization: Bearer "+testMasterKey)
	waitFor(t, 3*time.Second, "upstream to receive the request", func() bool { return len(up.requests()) == 1 })
	waitFor(t, 3*time.Second, "the epoll registration", func() bool { return pollRegistrations() > before })
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-up.closed:
	case <-time.After(3 * time.Second):
		t.Fatal("upstream did not see the half-close within 3s")
	}
	waitFor(t, 3*time.Second, "in-flight back to 0", func() bool { return gw.srv.InFlight() == 0 })
	waitFor(t, 3*time.Second, "no registration left", func() bool { return pollWatching() == 0 })
}

// A client that pipelines its next request and then shuts its write
// side gets both answers: the event fires (EPOLLRDHUP) but the peek
// finds the pipelined bytes, so the call in flight is not canceled and
// fasthttp still reads the second request.
func TestEpollWatchPipelinedThenHalfClose(t *testing.T) {
	up := newFakeOpenAI(t)
	arrived, gate := make(chan struct{}, 4), make(chan struct{})
	var once sync.Once
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		arrived <- struct{}{}
		once.Do(func() {
			select {
			case <-gate:
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		})
		answerJSON("hi there")(w, r, body)
	})
	gw := startGateway(t, testConfig(dep(0, "m", "openai/m", up.base(), "sk-up")))
	before := pollRegistrations()
	conn, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
	auth := "Authorization: Bearer " + testMasterKey
	writeRequest(t, conn, "POST", "/v1/chat/completions", body, auth)
	select {
	case <-arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("first request never reached the upstream")
	}
	waitFor(t, 3*time.Second, "the epoll registration", func() bool { return pollRegistrations() > before })
	writeRequest(t, conn, "POST", "/v1/chat/completions", body, auth)
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	// The event is handled (the registration leaves the map) while the
	// first call still waits on the gate.
	waitFor(t, 3*time.Second, "the event to be handled", func() bool { return pollWatching() == 0 })
	close(gate)
	readAnswers(t, conn, 2, "hi")
	select {
	case <-up.closed:
		t.Fatal("the pipelined client's call was canceled")
	default:
	}
}
