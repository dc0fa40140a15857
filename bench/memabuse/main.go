// Command memabuse reproduces, on loopback, the memory attacks of
// docs/security.md's abuse section against an llmedge binary, and
// prints the peak RSS (VmHWM) of the llmedge process:
//
//	uploads       N clients without a key upload a SIZE body at RATE each
//	uploads-auth  the same with the master key (bounded by the bytes of
//	              bodies in flight)
//	unread        N clients ask for an ANSWER-byte non-stream answer and
//	              never read it
//
// It starts its own fake OpenAI upstream and one llmedge per run, and
// every run is bounded in time. Linux only (reads /proc).
//
//	go run ./bench/memabuse -llmedge ./llmedge -scenario uploads
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const masterKey = "sk-master-memabuse"

func main() {
	bin := flag.String("llmedge", "./llmedge", "llmedge binary")
	scenario := flag.String("scenario", "uploads", "uploads, uploads-auth or unread")
	n := flag.Int("n", 0, "clients (default 100 for uploads, 20 for unread)")
	size := flag.Int("size", 32<<20, "upload body bytes")
	rate := flag.Int("rate", 4<<20, "upload bytes per second per client")
	answer := flag.Int("answer", 20<<20, "non-stream answer bytes (unread)")
	hold := flag.Duration("hold", 5*time.Second, "unread: how long the clients keep their connections, unread, after the last answer left the upstream")
	extra := flag.String("settings", "", "extra general_settings lines, e.g. 'http_write_timeout: 2'")
	flag.Parse()
	if *n == 0 {
		*n = 100
		if *scenario == "unread" {
			*n = 20
		}
	}
	up, served := startUpstream(*answer)
	defer up.Close()
	gw, stop, err := startLLMedge(*bin, up.Addr().String(), *extra)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer stop()
	fmt.Printf("scenario %s, %d clients, llmedge pid %d, VmHWM before: %s\n", *scenario, *n, gw.pid, gw.hwm())
	start := time.Now()
	var statuses sync.Map
	count := func(s string) {
		v, _ := statuses.LoadOrStore(s, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	var wg sync.WaitGroup
	switch *scenario {
	case "uploads", "uploads-auth":
		key := ""
		if *scenario == "uploads-auth" {
			key = masterKey
		}
		for i := 0; i < *n; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); count(upload(gw.addr, key, *size, *rate)) }()
		}
		wg.Wait()
	case "unread":
		conns := make([]net.Conn, 0, *n)
		for i := 0; i < *n; i++ {
			c, err := askAndNeverRead(gw.addr)
			if err != nil {
				count("dial: " + err.Error())
				continue
			}
			conns = append(conns, c)
		}
		deadline := time.Now().Add(60 * time.Second)
		for served.Load() < int64(len(conns)) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(*hold)
		// Reading 20 MiB through a 4 KiB window is slow: report what
		// the gateway says instead, then hang up.
		fmt.Printf("after %s: %s\n", time.Since(start).Round(100*time.Millisecond), gw.metrics("llmedge_requests_in_flight", "llmedge_answer_write_timeouts_total"))
		for _, c := range conns {
			_ = c.Close()
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown scenario", *scenario)
		os.Exit(2)
	}
	fmt.Printf("done in %s; VmHWM %s, VmRSS now %s\n", time.Since(start).Round(100*time.Millisecond), gw.hwm(), gw.rss())
	statuses.Range(func(k, v any) bool {
		fmt.Printf("  %-40s %d\n", k, v.(*atomic.Int64).Load())
		return true
	})
}

// startUpstream serves OpenAI chat completions: a non-stream answer of
// about size bytes; served counts the answers written.
func startUpstream(size int) (net.Listener, *atomic.Int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	body := []byte(`{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		strings.Repeat("x", size) + `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	var served atomic.Int64
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
		served.Add(1)
	}))
	return ln, &served
}

type llmedgeProc struct {
	addr string
	pid  int
}

func (p llmedgeProc) status(field string) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.pid) + "/status")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// metrics returns the named series from GET /metrics.
func (p llmedgeProc) metrics(names ...string) string {
	r, err := http.Get("http://" + p.addr + "/metrics")
	if err != nil {
		return err.Error()
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		for _, n := range names {
			if strings.HasPrefix(l, n+" ") {
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, ", ")
}

func (p llmedgeProc) hwm() string { return p.status("VmHWM") }
func (p llmedgeProc) rss() string { return p.status("VmRSS") }

func startLLMedge(bin, upstream, extra string) (llmedgeProc, func(), error) {
	dir, err := os.MkdirTemp("", "memabuse")
	if err != nil {
		return llmedgeProc{}, nil, err
	}
	cfg := filepath.Join(dir, "config.yaml")
	y := "model_list:\n  - model_name: m\n    litellm_params: {model: openai/m, api_base: http://" + upstream + "/v1, api_key: sk-up}\n" +
		"general_settings:\n  master_key: " + masterKey + "\n"
	for _, l := range strings.Split(extra, ";") {
		if l = strings.TrimSpace(l); l != "" {
			y += "  " + l + "\n"
		}
	}
	if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
		return llmedgeProc{}, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return llmedgeProc{}, nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	cmd := exec.Command(bin, "serve", "--config", cfg, "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--access-log=false", "--log-level", "error")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return llmedgeProc{}, nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); _ = os.RemoveAll(dir) }
	p := llmedgeProc{addr: "127.0.0.1:" + strconv.Itoa(port), pid: cmd.Process.Pid}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := http.Get("http://" + p.addr + "/health/readiness")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return p, stop, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return p, nil, fmt.Errorf("llmedge not ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// upload sends a chat body of size bytes at rate bytes/s and returns the
// answer's status (or what ended the attempt).
func upload(addr, key string, size, rate int) string {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "dial error"
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(90 * time.Second))
	head := "POST /v1/chat/completions HTTP/1.1\r\nHost: llmedge\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(size) + "\r\n"
	if key != "" {
		head += "Authorization: Bearer " + key + "\r\n"
	}
	status := make(chan string, 1)
	go func() { status <- readStatus(c) }()
	if _, err := io.WriteString(c, head+"\r\n"); err != nil {
		return "write error"
	}
	const prefix, suffix = `{"model":"m","messages":[{"role":"user","content":"`, `"}]}`
	chunk := []byte(strings.Repeat("x", 64<<10))
	sent, t0 := 0, time.Now()
	for sent < size {
		p := chunk[:min(len(chunk), size-sent)]
		switch {
		case sent == 0:
			p = append([]byte(prefix), p[len(prefix):]...)
		case sent+len(p) == size:
			p = append(p[:len(p)-len(suffix)], suffix...)
		}
		if _, err := c.Write(p); err != nil {
			break
		}
		sent += len(p)
		if ahead := time.Duration(float64(sent)/float64(rate)*float64(time.Second)) - time.Since(t0); ahead > 0 {
			select {
			case s := <-status:
				return s
			case <-time.After(ahead):
			}
		}
	}
	return <-status
}

func askAndNeverRead(addr string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	_ = c.(*net.TCPConn).SetReadBuffer(4096)
	body := `{"model":"m","messages":[{"role":"user","content":"x"}]}`
	_, err = io.WriteString(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: llmedge\r\nContent-Type: application/json\r\nAuthorization: Bearer "+masterKey+
		"\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
	return c, err
}

// readStatus reads one response and reports its status and whether the
// body came whole.
func readStatus(c net.Conn) string {
	_ = c.SetReadDeadline(time.Now().Add(90 * time.Second))
	r, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "no response: " + shortErr(err)
	}
	defer r.Body.Close()
	n, err := io.Copy(io.Discard, r.Body)
	if err != nil {
		return r.Status + ", body cut after " + strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return r.Status
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}
