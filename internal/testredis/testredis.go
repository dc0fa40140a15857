// Package testredis runs a redis-server of a test's own on a loopback
// port, which the test may kill and restart (never the shared one).
// Only tests import it; it must not be imported by the product.
package testredis

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

// Server is a redis-server started by a test.
type Server struct {
	t    *testing.T
	bin  string
	Port string
	cmd  *exec.Cmd
}

// Start starts one on a free loopback port; it is killed when the test
// ends. Without redis-server on PATH the test is skipped (fails in CI).
func Start(t *testing.T) *Server {
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

// Addr is its host:port.
func (r *Server) Addr() string { return "127.0.0.1:" + r.Port }

// Restart starts it (again, empty) on its port and waits until it answers.
func (r *Server) Restart() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--port", r.Port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			r.t.Fatal("redis-server did not answer within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Kill stops it at once.
func (r *Server) Kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}
