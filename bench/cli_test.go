package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMainHelpAndUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args  []string
		code  int
		flags []string // must appear in the output
	}{
		{nil, 2, []string{"upstream", "run", "compare"}},
		{[]string{"-h"}, 0, []string{"upstream", "run", "compare"}},
		{[]string{"nope"}, 2, []string{"unknown command"}},
		{[]string{"upstream", "-h"}, 0, []string{"-addr", "-ttft", "-chunks", "-chunk-bytes", "-gap", "-error-rate", "-error-status"}},
		{[]string{"run", "-h"}, 0, []string{"-target", "-model", "-stream", "-concurrency", "-rate", "-duration", "-requests", "-api-key", "-anthropic", "-json", "-expect-events", "-max-outstanding", "-timeout"}},
		{[]string{"compare", "-h"}, 0, []string{"-duration", "-rounds", "-concurrency", "-stream", "-anthropic", "-report", "-llmedge", "-json", "-ttft", "-gap"}},
		{[]string{"run", "--model", "m"}, 2, []string{"--target and --model are required"}},
		{[]string{"run", "--target", "http://x", "--model", "m", "--rate", "fast"}, 2, []string{"rate"}},
		{[]string{"upstream", "--error-rate", "2"}, 2, []string{"--error-rate"}},
		{[]string{"run", "extra"}, 2, []string{"unexpected argument"}},
		{[]string{"run", "--target", "http://x", "--model", "m", "--rate", "5", "--concurrency", "2"}, 2, []string{"exclude each other"}},
	} {
		var out, errb bytes.Buffer
		code := Main(c.args, &out, &errb)
		all := out.String() + errb.String()
		if code != c.code {
			t.Errorf("Main(%q) = %d, want %d\n%s", c.args, code, c.code, all)
		}
		for _, f := range c.flags {
			if !strings.Contains(all, f) {
				t.Errorf("Main(%q) output lacks %q:\n%s", c.args, f, all)
			}
		}
	}
}

func TestRateFlag(t *testing.T) {
	for in, want := range map[string]float64{"100": 100, "100/s": 100, "600/m": 10, "7200/h": 2, "0.5": 0.5} {
		var r rateFlag
		if err := r.Set(in); err != nil || float64(r) != want {
			t.Errorf("rate %q = %v, %v; want %v", in, float64(r), err, want)
		}
	}
	for _, bad := range []string{"", "x", "-1", "0", "5/d"} {
		var r rateFlag
		if r.Set(bad) == nil {
			t.Errorf("rate %q accepted", bad)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestUpstreamAndRunCommands(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var upOut, upErr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- mainUpstream(ctx, []string{"--addr", "127.0.0.1:0", "--chunks", "3", "--ttft", "1ms"}, &upOut, &upErr)
	}()
	re := regexp.MustCompile(`http://[0-9.:]+`)
	deadline := time.Now().Add(5 * time.Second)
	var base string
	for base == "" {
		if time.Now().After(deadline) {
			t.Fatalf("upstream did not start: %s %s", upOut.String(), upErr.String())
		}
		base = re.FindString(upOut.String())
		time.Sleep(10 * time.Millisecond)
	}

	var out, errb bytes.Buffer
	code := Main([]string{"run", "--target", base, "--model", "m", "--stream", "--requests", "12",
		"--concurrency", "2", "--expect-events", "3", "--json"}, &out, &errb)
	if code != 0 {
		t.Fatalf("run = %d: %s", code, errb.String())
	}
	var r map[string]any
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("run --json: %v\n%s", err, out.String())
	}
	for _, k := range []string{"mode", "requests", "ok", "errors_by_kind", "throughput_rps", "latency_ms", "ttft_ms", "gap_ms", "events", "events_per_s", "lost_events"} {
		if _, ok := r[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if r["ok"] != 12.0 || r["events"] != 36.0 || r["lost_events"] != 0.0 || r["mode"] != "closed" {
		t.Errorf("JSON = %s", out.String())
	}
	lat := r["latency_ms"].(map[string]any)
	for _, k := range []string{"p50", "p90", "p99", "p99_9", "max"} {
		if v, ok := lat[k].(float64); !ok || v <= 0 {
			t.Errorf("latency_ms.%s = %v", k, lat[k])
		}
	}

	out.Reset()
	if code := Main([]string{"run", "--target", base, "--model", "m", "--anthropic", "--rate", "100/s", "--duration", "200ms"}, &out, &errb); code != 0 {
		t.Fatalf("open-loop run = %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "open loop") || !strings.Contains(out.String(), "latency") {
		t.Errorf("text output:\n%s", out.String())
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(upOut.String(), "served ") {
			t.Errorf("upstream exit %d: %s %s", code, upOut.String(), upErr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("upstream command did not stop")
	}
}
