package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// This file runs the llmedge under test as a child process and reads its
// resource usage from /proc.

// clockTicks is USER_HZ, 100 on every Linux platform Go supports.
const clockTicks = 100

// procCPUTicks returns utime+stime of pid in clock ticks.
func procCPUTicks(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc/pid/stat")
	}
	// Fields after the command: state(3) ppid(4) ... utime(14) stime(15).
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc/pid/stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return ut + st, nil
}

// procPeakRSS returns VmHWM of pid in bytes.
func procPeakRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024, err
			}
		}
	}
	return 0, errors.New("no VmHWM in /proc/pid/status")
}

// CompareConfig returns the llmedge config.yaml compare uses: model "bench"
// (OpenAI, chat and Responses), "bench-anthropic" (Anthropic) and
// "bench-chat" (OpenAI chat only: /v1/responses translated) on the fake
// upstream, master key sk-bench.
func CompareConfig(upstreamAddr string) string {
	return fmt.Sprintf(`model_list:
  - model_name: bench
    litellm_params: {model: openai/bench-model, api_base: http://%[1]s/v1, api_key: sk-fake}
  - model_name: bench-anthropic
    litellm_params: {model: anthropic/claude-bench, api_base: http://%[1]s, api_key: sk-fake}
  - model_name: bench-chat
    litellm_params: {model: openai/bench-model, api_base: http://%[1]s/v1, api_key: sk-fake}
    model_info: {mode: chat}
general_settings: {master_key: sk-bench}
`, upstreamAddr)
}

// ExecLLMedge starts "path serve --config <temp> --port <free> --host
// 127.0.0.1" (path "" = this executable) and waits up to 20 s for
// /health/liveliness to answer 200. stop kills it (SIGTERM, then SIGKILL
// after 3 s) and removes the temp config. The child's warnings and
// errors go to log (nil: kept and shown only if it fails to start); its
// info lines (one access-log line per request) are not copied: the
// access log stays on, as a user runs it, but is nobody's to read here.
func ExecLLMedge(ctx context.Context, path, upstreamAddr string, log io.Writer) (baseURL string, pid int, stop func(), err error) {
	if path == "" {
		if path, err = os.Executable(); err != nil {
			return "", 0, nil, err
		}
	}
	dir, err := os.MkdirTemp("", "llmedge-bench-")
	if err != nil {
		return "", 0, nil, err
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(CompareConfig(upstreamAddr)), 0o600); err != nil {
		os.RemoveAll(dir)
		return "", 0, nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return "", 0, nil, err
	}
	cmd := exec.Command(path, "serve", "--config", cfg, "--port", strconv.Itoa(port), "--host", "127.0.0.1")
	out := &cappedBuffer{max: 64 << 10}
	var w io.Writer = out
	if log != nil {
		w = io.MultiWriter(out, &warnLines{w: log})
	}
	cmd.Stdout, cmd.Stderr = w, w
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return "", 0, nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(3 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
			os.RemoveAll(dir)
		})
	}
	baseURL = "http://127.0.0.1:" + strconv.Itoa(port)
	if err := waitHealthy(ctx, baseURL+"/health/liveliness", 20*time.Second, exited); err != nil {
		stop()
		return "", 0, nil, fmt.Errorf("%s: %w\n%s", path, err, out.String())
	}
	return baseURL, cmd.Process.Pid, stop, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitHealthy polls url until it answers 200, the deadline passes, ctx ends
// or exited closes.
func waitHealthy(ctx context.Context, url string, timeout time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		code, _, err := fasthttp.GetTimeout(nil, url, time.Second)
		if err == nil && code == fasthttp.StatusOK {
			return nil
		}
		last = err
		if err == nil {
			last = fmt.Errorf("status %d", code)
		}
		select {
		case <-exited:
			return errors.New("exited before becoming healthy")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("not healthy after %s: %v", timeout, last)
}

// cappedBuffer keeps the first max bytes written to it.
type cappedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *cappedBuffer) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// warnLines forwards the lines of a text-format slog stream whose level
// is above INFO. A line is judged once whole (or once 4 KiB of it came).
type warnLines struct {
	w    io.Writer
	line []byte
}

func (f *warnLines) Write(p []byte) (int, error) {
	for rest := p; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			f.line = append(f.line, rest...)
			if len(f.line) < 4<<10 {
				break
			}
			rest = nil
		} else {
			f.line = append(f.line, rest[:i+1]...)
			rest = rest[i+1:]
		}
		line := f.line
		f.line = f.line[:0]
		if bytes.Contains(line, []byte(" level=INFO ")) || bytes.Contains(line, []byte(" level=DEBUG ")) {
			continue
		}
		if _, err := f.w.Write(line); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
