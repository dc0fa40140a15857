// Package egresstest starts what the egress tests need: a real forward
// proxy (Debian's tinyproxy) on a free loopback port, and a private CA
// with server and client certificates made with crypto/x509. Only tests
// import it.
package egresstest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/internal/wait"
)

// Proxy is a running tinyproxy.
type Proxy struct {
	// Addr is its "127.0.0.1:port".
	Addr    string
	logPath string
}

// URL is the proxy's http:// URL with user:pass when given.
func (p *Proxy) URL(user, pass string) string {
	if user == "" {
		return "http://" + p.Addr
	}
	return "http://" + user + ":" + pass + "@" + p.Addr
}

// Log is tinyproxy's log so far (it names each request it relays:
// "CONNECT host:port" for a tunnel, the absolute URL for plain HTTP).
func (p *Proxy) Log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// StartTinyproxy runs tinyproxy on a free loopback port until the test
// ends; with user set it demands Basic authentication. Without the
// binary the test is skipped, unless CI is set (.ci/run installs it).
func StartTinyproxy(t testing.TB, user, pass string) *Proxy {
	t.Helper()
	bin, err := exec.LookPath("tinyproxy")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tinyproxy not installed (.ci/run installs it)")
		}
		t.Skip("tinyproxy not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	p := &Proxy{Addr: addr, logPath: filepath.Join(dir, "tinyproxy.log")}
	conf := []string{
		"Port " + port, "Listen 127.0.0.1", "Timeout 60", "MaxClients 200",
		fmt.Sprintf("LogFile %q", p.logPath), "LogLevel Info", "Allow 127.0.0.1",
	}
	if user != "" {
		conf = append(conf, "BasicAuth "+user+" "+pass)
	}
	confPath := filepath.Join(dir, "tinyproxy.conf")
	if err := os.WriteFile(confPath, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-d", "-c", confPath)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	wait.For(t, 10*time.Second, "tinyproxy to listen on "+addr, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	})
	return p
}
