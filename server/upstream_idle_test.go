package server

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// closeWaitTo counts this network namespace's TCP sockets in CLOSE_WAIT
// whose peer is addr: with addr a fake upstream's own listening
// address, those are llmedge's pooled connections the upstream closed.
func closeWaitTo(t *testing.T, addr *net.TCPAddr) int {
	t.Helper()
	n := 0
	for _, file := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		f, err := os.Open(file)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			// sl local_address rem_address st ...; st 08 is CLOSE_WAIT.
			if len(fields) < 4 || fields[3] != "08" {
				continue
			}
			_, port, ok := strings.Cut(fields[2], ":")
			if p, err := strconv.ParseUint(port, 16, 16); ok && err == nil && int(p) == addr.Port {
				n++
			}
		}
		f.Close()
	}
	return n
}

// After a burst of streams, an upstream that closes idle keep-alive
// connections (uvicorn and Node do after 5 s; this one after 100 ms)
// must not leave llmedge's side of each in CLOSE_WAIT until the 90 s
// idle timeout: idle pooled connections the upstream closed are closed
// within about a second.
func TestUpstreamClosedIdleConnectionsLeaveCloseWait(t *testing.T) {
	if _, err := os.Stat("/proc/self/net/tcp"); err != nil {
		t.Skip("needs /proc/self/net/tcp")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body [4096]byte
		n, _ := r.Body.Read(body[:])
		streamWords([]string{"a", "b", "c"}, 0, nil)(w, r, body[:n])
	}), IdleTimeout: 100 * time.Millisecond, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	upAddr := ln.Addr().(*net.TCPAddr)
	gw := startGateway(t, testConfig(dep(0, "m", "openai/m", "http://"+upAddr.String()+"/v1", "k")))

	const streams = 40
	var wg sync.WaitGroup
	errs := make(chan error, streams)
	client := sdk(gw, testMasterKey)
	for range streams {
		wg.Go(func() {
			params := userMsg("x")
			params.Model = "m"
			st := client.Chat.Completions.NewStreaming(context.Background(), params)
			for st.Next() {
			}
			if err := st.Err(); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("stream: %v", err)
	}
	// The upstream closes every idle connection 100 ms after its
	// stream; llmedge's side must follow within the probe interval.
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := closeWaitTo(t, upAddr)
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d upstream sockets still in CLOSE_WAIT 5 s after the burst", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The pool still works: the next request dials afresh.
	r := rawPost(t, gw, "/v1/chat/completions", streamReq, testMasterKey)
	if r.StatusCode != 200 || !strings.Contains(r.Body, "[DONE]") {
		t.Fatalf("after the sweep: %d %s", r.StatusCode, r.Body)
	}
}

// An upstream closes kept-alive connections after its own idle timeout
// (uvicorn, so vLLM and LiteLLM: 5 s; Node: 5 s), shorter than llmedge's
// 90 s. The next call took the dead connection from the pool and failed:
// a 503 "unreachable: EOF" with retries off, a retry with backoff with
// them on. Such a call is now sent again on another connection, which
// is then kept for reuse.
func TestStaleKeepAliveConnectionIsRetried(t *testing.T) {
	var mu sync.Mutex
	idle := map[net.Conn]bool{}
	var opened, closed, requests atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		b, _ := io.ReadAll(r.Body)
		answerJSON("hi")(w, r, b)
	})}
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch s {
		case http.StateNew:
			opened.Add(1)
		case http.StateIdle:
			idle[c] = true
		case http.StateActive:
			delete(idle, c)
		case http.StateClosed, http.StateHijacked:
			delete(idle, c)
			closed.Add(1)
		}
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	cfg := testConfig(dep(0, "gpt", "openai/gpt-4o", "http://"+ln.Addr().String()+"/v1", "sk-up"))
	setSettings(cfg, "router_settings", map[string]any{"num_retries": int64(0)})
	gw := startGateway(t, cfg)
	call := func() rawResponse {
		return rawRequest(t, gw, "POST", "/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":"hi"}]}`,
			"Authorization: Bearer "+testMasterKey)
	}
	if r := call(); r.StatusCode != 200 {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	// The upstream closes its idle connection, as its idle timeout would.
	waitFor(t, 5*time.Second, "the upstream connection to go idle", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for c := range idle {
			_ = c.Close()
			return true
		}
		return false
	})
	waitFor(t, 5*time.Second, "the close", func() bool { return closed.Load() == 1 })
	if r := call(); r.StatusCode != 200 {
		t.Fatalf("call on a stale pooled connection: %d %s", r.StatusCode, r.Body)
	}
	if r := call(); r.StatusCode != 200 {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	if n := opened.Load(); n != 2 {
		t.Errorf("%d upstream connections opened, want 2 (the one dialed after the stale one is kept)", n)
	}
	if n := requests.Load(); n != 3 {
		t.Errorf("upstream saw %d requests, want 3", n)
	}
}
