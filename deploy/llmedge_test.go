package deploy

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/testbin"
)

// What the deployment files are checked against: the binary built from
// this tree, its Dockerfile and its config loader.

// llmedgeBinary builds the llmedge binary once per test run.
func llmedgeBinary(t *testing.T) string { return testbin.Build(t, "..", false) }

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// dockerfilePort is the port the Dockerfile EXPOSEs.
func dockerfilePort(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^EXPOSE\s+(\d+)\s*$`).FindAllSubmatch(b, -1)
	if len(m) != 1 {
		t.Fatalf("Dockerfile: want one EXPOSE <port>, found %d", len(m))
	}
	p, _ := strconv.Atoi(string(m[0][1]))
	return p
}

// serveFlags are the values a deployment file passes to llmedge serve.
type serveFlags struct {
	config string
	port   int
	grace  time.Duration
}

// parseServeArgs reads llmedge's serve arguments as written in a
// deployment file ("--flag value" or "--flag=value").
func parseServeArgs(t *testing.T, args []string) serveFlags {
	t.Helper()
	if len(args) == 0 || args[0] != "serve" {
		t.Fatalf("args %q: want llmedge serve ...", args)
	}
	f := serveFlags{grace: 30 * time.Second} // llmedge's defaults
	for i := 1; i < len(args); i++ {
		name, val, eq := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !eq && i+1 < len(args) {
			i++
			val = args[i]
		}
		switch name {
		case "config":
			f.config = val
		case "port":
			p, err := strconv.Atoi(val)
			if err != nil {
				t.Fatalf("--port %q: %v", val, err)
			}
			f.port = p
		case "grace":
			d, err := time.ParseDuration(val)
			if err != nil {
				t.Fatalf("--grace %q: %v", val, err)
			}
			f.grace = d
		}
	}
	if f.config == "" || f.port == 0 {
		t.Fatalf("args %q: want --config and --port", args)
	}
	return f
}

// loadConfig loads a deployment's config text with llmedge's loader and
// the environment the deployment gives it, and fails on any variable it
// leaves unset.
func loadConfig(t *testing.T, text string, env map[string]string) *config.Config {
	t.Helper()
	var unset []string
	cfg, err := config.Parse([]byte(text), config.Options{Getenv: func(k string) (string, bool) {
		v, ok := env[k]
		if !ok {
			unset = append(unset, k)
		}
		return v, ok
	}})
	if err != nil {
		t.Fatalf("config does not load: %v", err)
	}
	if len(unset) > 0 {
		t.Fatalf("config reads variables the deployment does not set: %v", unset)
	}
	return cfg
}

// runServe runs llmedge serve with a deployment's args, config text and
// environment on a free loopback port (--config and --port replaced),
// checks that every path in probes answers 200, then sends SIGTERM and
// checks that it exits 0 within grace.
func runServe(t *testing.T, args []string, configText string, env map[string]string, probes []string) {
	t.Helper()
	f := parseServeArgs(t, args)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(configText), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	run := make([]string, 0, len(args)+2)
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch strings.TrimLeft(a, "-") {
		case "config":
			run = append(run, a, cfgPath)
			i++
			continue
		case "port":
			run = append(run, a, strconv.Itoa(port))
			i++
			continue
		}
		run = append(run, a)
	}
	run = append(run, "--host", "127.0.0.1")

	ctx, cancel := context.WithTimeout(context.Background(), f.grace+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, llmedgeBinary(t), run...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan struct{})
	var logMu sync.Mutex
	var logs strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			logMu.Lock()
			logs.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			if strings.Contains(sc.Text(), "llmedge listening") {
				once.Do(func() { close(listening) })
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	dumpLogs := func() string { logMu.Lock(); defer logMu.Unlock(); return logs.String() }
	select {
	case <-listening:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("llmedge %q did not start:\n%s", run, dumpLogs())
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	for _, p := range probes {
		resp, err := hc.Get("http://127.0.0.1:" + strconv.Itoa(port) + p)
		if err != nil {
			t.Errorf("GET %s: %v", p, err)
			continue
		}
		_ = resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: status %d, want 200 (a probe path must be an llmedge health route)", p, resp.StatusCode)
		}
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("llmedge after SIGTERM: %v\n%s", err, dumpLogs())
	}
	if d := time.Since(start); d > f.grace {
		t.Errorf("llmedge took %v to stop with nothing in flight, more than --grace %v", d, f.grace)
	}
}
