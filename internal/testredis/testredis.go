// Package testredis runs redis-servers of a test's own on loopback
// ports, which the test may kill and restart (never the shared one):
// one node, one node over TLS (tls.go), a Sentinel set (sentinel.go)
// and a three-node Cluster (cluster.go). Only tests import it; it must
// not be imported by the product.
package testredis

import (
	"context"
	"crypto/tls"
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
	t    testing.TB
	bin  string
	Port string
	// args are its command line; tlsConf, when set, is how to reach it
	// (it then listens for TLS only).
	args    []string
	tlsConf *tls.Config
	cmd     *exec.Cmd
}

// Start starts one on a free loopback port; it is killed when the test
// ends. Without redis-server on PATH the test is skipped (fails in CI).
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, nil, nil)
}

// start starts redis-server on a free port with args after the port,
// bind and persistence flags (tc: it listens for TLS only).
func start(t testing.TB, args []string, tc *tls.Config) *Server {
	t.Helper()
	port := strconv.Itoa(FreePort(t))
	portFlag := "--port"
	if tc != nil {
		portFlag = "--tls-port"
		args = append([]string{"--port", "0"}, args...)
	}
	r := &Server{t: t, bin: Bin(t, "redis-server"), Port: port, tlsConf: tc,
		args: append([]string{portFlag, port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", t.TempDir()}, args...)}
	r.Restart()
	t.Cleanup(r.Kill)
	return r
}

// Bin is the path of a Redis program; without it the test is skipped
// (fails in CI, which installs it).
func Bin(t testing.TB, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(name + " not on PATH")
		}
		t.Skip(name + " not on PATH")
	}
	return bin
}

// FreePort is a loopback TCP port nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Addr is its host:port.
func (r *Server) Addr() string { return "127.0.0.1:" + r.Port }

// Client is a client of this server alone (closed when the test ends).
func (r *Server) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: r.Addr(), TLSConfig: r.tlsConf, MaxRetries: -1})
	r.t.Cleanup(func() { _ = c.Close() })
	return c
}

// Restart starts it (again, empty) on its port and waits until it answers.
func (r *Server) Restart() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, r.args...)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: r.Addr(), TLSConfig: r.tlsConf})
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
