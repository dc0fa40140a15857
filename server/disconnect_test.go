package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmedge/llmedge/server/connwatch"
)

// A client that pipelines (sends its next request while one is in
// flight) gets both answers: the disconnect watcher must not eat the
// next request's first byte and then drop the connection with the
// first answer unsent.
func TestPipelinedRequestKeepsFirstAnswer(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "json", true: "stream"}[stream], func(t *testing.T) {
			up := newFakeOpenAI(t)
			arrived, gate := make(chan struct{}, 4), make(chan struct{})
			var once sync.Once
			up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
				arrived <- struct{}{}
				once.Do(func() {
					select {
					case <-gate:
					case <-time.After(5 * time.Second):
					}
				})
				answerJSON("hi there")(w, r, body)
			})
			gw := startGateway(t, testConfig(dep(0, "m", "openai/m", up.base(), "sk-up")))
			conn, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			body := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
			if stream {
				body = `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`
			}
			auth := "Authorization: Bearer " + testMasterKey
			begun := connwatch.Begun()
			writeRequest(t, conn, "POST", "/v1/chat/completions", body, auth)
			select {
			case <-arrived:
			case <-time.After(5 * time.Second):
				t.Fatal("first request never reached the upstream")
			}
			// Once the watch has begun (the path under test) the watcher
			// reads the socket; the second request is there to be read.
			waitFor(t, 3*time.Second, "the watch to begin", func() bool { return connwatch.Begun() > begun })
			writeRequest(t, conn, "POST", "/v1/chat/completions", body, auth)
			close(gate)
			readAnswers(t, conn, 2, "hi")
		})
	}
}

// readAnswers reads n responses from conn (within 5 s), each a 200
// whose body contains want.
func readAnswers(t *testing.T, conn net.Conn, n int, want string) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	for i := 1; i <= n; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Fatalf("answer %d: %d %q %v", i, resp.StatusCode, b, err)
		}
	}
}
