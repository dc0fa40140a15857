package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// startTestProxy is a CompareOptions.StartProxy: a pass-through fasthttp
// reverse proxy (no translation) that streams the upstream's body.
func startTestProxy(_ context.Context, upstreamAddr string) (string, int, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", 0, nil, err
	}
	srv := testProxyServer(upstreamAddr)
	go func() { _ = srv.Serve(ln) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.ShutdownWithContext(ctx)
	}
	return "http://" + ln.Addr().String(), os.Getpid(), stop, nil
}

// testProxyServer is a pass-through proxy to upstreamAddr.
func testProxyServer(upstreamAddr string) *fasthttp.Server {
	hc := &fasthttp.HostClient{Addr: upstreamAddr, StreamResponseBody: true, MaxConns: 256, ReadTimeout: 10 * time.Second}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/health/liveliness" {
			ctx.SetBodyString("I'm alive!")
			return
		}
		req := fasthttp.AcquireRequest()
		ctx.Request.CopyTo(req)
		req.Header.Del("Authorization")
		req.SetHost(upstreamAddr)
		resp := fasthttp.AcquireResponse()
		if err := hc.DoTimeout(req, resp, 10*time.Second); err != nil {
			fasthttp.ReleaseRequest(req)
			fasthttp.ReleaseResponse(resp)
			ctx.Error(err.Error(), fasthttp.StatusBadGateway)
			return
		}
		fasthttp.ReleaseRequest(req)
		ctx.SetStatusCode(resp.StatusCode())
		ctx.Response.Header.SetContentTypeBytes(resp.Header.ContentType())
		body := resp.BodyStream()
		if body == nil {
			ctx.SetBody(resp.Body())
			fasthttp.ReleaseResponse(resp)
			return
		}
		ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
			defer fasthttp.ReleaseResponse(resp)
			defer resp.CloseBodyStream() //nolint:errcheck
			buf := make([]byte, 16<<10)
			for {
				n, err := body.Read(buf)
				if n > 0 {
					if _, werr := w.Write(buf[:n]); werr != nil || w.Flush() != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		})
	}}
	return srv
}

// TestMain lets the test binary stand in for llmedge: with
// BENCH_FAKE_LLMEDGE=1 it serves "serve --config F --port P --host H" as a
// pass-through proxy to the config's upstream, so ExecLLMedge is tested end
// to end (exec, health wait, /proc accounting, stop).
func TestMain(m *testing.M) {
	if os.Getenv("BENCH_FAKE_LLMEDGE") == "1" {
		os.Exit(fakeLLMedge(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func fakeLLMedge(args []string) int {
	var cfg, host, port string
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "--config":
			cfg = args[i+1]
		case "--host":
			host = args[i+1]
		case "--port":
			port = args[i+1]
		}
	}
	if len(args) == 0 || args[0] != "serve" || cfg == "" || port == "" {
		fmt.Fprintln(os.Stderr, "fake llmedge: want serve --config F --port P --host H, got", args)
		return 2
	}
	b, err := os.ReadFile(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	m := regexp.MustCompile(`api_base: http://([0-9.:]+)/v1`).FindSubmatch(b)
	if m == nil {
		fmt.Fprintln(os.Stderr, "fake llmedge: no openai api_base in config")
		return 1
	}
	srv := testProxyServer(string(m[1]))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-sig
		_ = srv.Shutdown()
	}()
	if err := srv.ListenAndServe(net.JoinHostPort(host, port)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func TestCompareExecsLLMedge(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	t.Setenv("BENCH_FAKE_LLMEDGE", "1") // read by the child test binary in TestMain
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var log bytes.Buffer
	r, err := Compare(ctx, CompareOptions{
		Rounds: 1, Duration: 200 * time.Millisecond, Warmup: -1, Concurrency: 2,
		Timeout: 5 * time.Second, LLMedgePath: exe, Log: &log,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if r.ProxyPID <= 0 || r.ProxyPID == os.Getpid() || r.CPUPerRequestUS == nil || r.PeakRSSBytes == nil {
		t.Fatalf("pid %d cpu %v rss %v", r.ProxyPID, r.CPUPerRequestUS, r.PeakRSSBytes)
	}
	if r.Through.Result.OK == 0 || r.Through.Result.Errors != 0 {
		t.Errorf("through lane: ok %d errors %v", r.Through.Result.OK, r.Through.Result.ErrorsByKind)
	}
	// The proxy was stopped: its /proc entry is gone (reaped) promptly.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", r.ProxyPID)); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("proxy pid %d still running after Compare", r.ProxyPID)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCompareWithInTestProxy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var log bytes.Buffer
	r, err := Compare(ctx, CompareOptions{
		Rounds: 2, Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond,
		Concurrency: 2, Stream: true, Timeout: 5 * time.Second,
		Upstream:   UpstreamOptions{Chunks: 8, ChunkBytes: 8, Gap: time.Millisecond},
		StartProxy: startTestProxy, Log: &log,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	d, th := r.Direct.Result, r.Through.Result
	if d.OK == 0 || th.OK == 0 || d.Errors+th.Errors != 0 {
		t.Fatalf("direct ok %d %v, through ok %d %v", d.OK, d.ErrorsByKind, th.OK, th.ErrorsByKind)
	}
	if d.LostEvents+th.LostEvents != 0 {
		t.Errorf("lost events: %d %d", d.LostEvents, th.LostEvents)
	}
	if r.ThroughputRatio <= 0 || r.TTFTOverhead == nil || r.CPUPerRequestUS == nil || r.PeakRSSBytes == nil || *r.PeakRSSBytes <= 0 {
		t.Errorf("incomplete result %+v", r)
	}
	if got := strings.Count(log.String(), "round "); got != 4 {
		t.Errorf("%d round lines in log:\n%s", got, log.String())
	}
	var text bytes.Buffer
	r.WriteText(&text)
	t.Logf("\n%s", text.String())
	if _, err := json.Marshal(r); err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.WriteHTML(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	page, _ := os.ReadFile(path)
	for _, want := range []string{"<!DOCTYPE html>", "<svg", "<polyline", "through llmedge", "</html>"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "http://www.w3.org/1999", "src="} {
		if bytes.Contains(page, []byte(bad)) {
			t.Errorf("report must be self-contained, found %q", bad)
		}
	}
	if n := bytes.Count(page, []byte("<svg")); n != 4 {
		t.Errorf("%d charts, want 4 (latency CDF and percentiles, TTFT, overhead)", n)
	}
}

func TestExecLLMedgeReportsEarlyExit(t *testing.T) {
	// /bin/true exits at once: ExecLLMedge must notice instead of waiting out its deadline.
	if _, err := os.Stat("/bin/true"); err != nil {
		t.Skip("no /bin/true")
	}
	start := time.Now()
	_, _, _, err := ExecLLMedge(testCtx(t), "/bin/true", "127.0.0.1:1", nil)
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %s", err, time.Since(start))
	}
}

func TestCompareConfig(t *testing.T) {
	c := CompareConfig("127.0.0.1:9")
	for _, want := range []string{"api_base: http://127.0.0.1:9/v1,", "api_base: http://127.0.0.1:9,", "model: anthropic/claude-bench", "master_key: sk-bench"} {
		if !strings.Contains(c, want) {
			t.Errorf("config lacks %q:\n%s", want, c)
		}
	}
}

// The child's access log (one INFO line per request, 10^5 lines a run)
// must not flood the terminal; its warnings and errors must reach it.
func TestWarnLinesDropsInfo(t *testing.T) {
	in := "time=t level=INFO msg=request status=200\n" +
		"time=t level=WARN msg=\"NO AUTHENTICATION\"\n" +
		"time=t level=DEBUG msg=x\n" +
		"time=t level=ERROR msg=\"listen failed\"\n" +
		"panic: boom\n"
	want := "time=t level=WARN msg=\"NO AUTHENTICATION\"\ntime=t level=ERROR msg=\"listen failed\"\npanic: boom\n"
	for step := 1; step <= len(in); step++ {
		var out bytes.Buffer
		f := &warnLines{w: &out}
		for i := 0; i < len(in); i += step {
			if _, err := f.Write([]byte(in[i:min(i+step, len(in))])); err != nil {
				t.Fatal(err)
			}
		}
		if out.String() != want {
			t.Fatalf("step %d: %q", step, out.String())
		}
	}
}
