// Package redistest starts a redis-server of a test's own, on a free
// loopback port, that the test may kill and restart (the shared one on
// LLMEDGE_TEST_REDIS is never stopped or flushed). Test helper only:
// nothing in the product imports it.
package redistest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server process of one test.
type Server struct {
	t         testing.TB
	bin, Port string
	cmd       *exec.Cmd
}

// Start starts one, stopped when the test ends. Without redis-server on
// PATH the test is skipped, or fails when CI is set.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server not on PATH")
		}
		t.Skip("redis-server not on PATH")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	r := &Server{t: t, bin: bin, Port: port}
	r.Restart()
	t.Cleanup(r.Kill)
	return r
}

// Restart starts the process again on the same port (empty: no
// persistence) and waits, at most 10 s, until it answers.
func (r *Server) Restart() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--port", r.Port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + r.Port})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			r.t.Fatal("redis-server not up after 10s")
		}
		<-tick.C
	}
}

// Kill stops the process at once (SIGKILL).
func (r *Server) Kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}
