package server

import (
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/valyala/fasthttp"
)

// Run together (same process, same run) to compare:
//
//	go test -run x -bench 'ProxyNonStream$|Cache' -benchmem ./server
//
// BenchmarkProxyNonStream is the pass-through (cache off);
// BenchmarkCacheHit a local hit; BenchmarkCacheMiss a request that
// goes upstream through the cache (looked up, call made on its own
// goroutine, nothing stored: Cache-Control: no-cache, no-store).

func withLocalCache(cfg *config.Config) {
	cfg.LiteLLM.Cache, cfg.LiteLLM.CacheParams = true, &config.CacheParams{Type: "local"}
}

func benchCache(b *testing.B, stream bool, header string) { benchCacheOn(b, stream, header, true) }

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchCacheOn(b *testing.B, stream bool, header string, on bool) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	mut := func(*config.Config) {}
	if on {
		mut = withLocalCache
	}
	st := newInMemoryStack(b, 64, mut)
	defer st.close()
	body := `{"messages":[{"role":"user","content":"What is the weather in Paris today?"}],"model":"m","temperature":0.2}`
	if stream {
		body = `{"messages":[{"role":"user","content":"What is the weather in Paris today?"}],"model":"m","stream":true}`
	}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	req.SetRequestURI("http://llmedge.local/v1/chat/completions")
	req.Header.SetMethod("POST")
	req.Header.Set("Authorization", "Bearer "+testMasterKey)
	if header != "" {
		req.Header.Set("Cache-Control", header)
	}
	req.SetBodyString(body)
	if err := st.client.Do(req, resp); err != nil || resp.StatusCode() != 200 {
		b.Fatalf("warm-up: %v %d", err, resp.StatusCode())
	}
	want := "hit"
	if header != "" {
		want = "bypass"
	}
	if !on {
		want = ""
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	defer func() { b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op") }()
	for b.Loop() {
		if err := st.client.Do(req, resp); err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode() != 200 || string(resp.Header.Peek("X-Llmedge-Cache")) != want {
			b.Fatalf("status %d, cache %q", resp.StatusCode(), resp.Header.Peek("X-Llmedge-Cache"))
		}
	}
}

func BenchmarkCacheHit(b *testing.B)         { benchCache(b, false, "") }
func BenchmarkCacheHitStream64(b *testing.B) { benchCache(b, true, "") }
func BenchmarkCacheMiss(b *testing.B)        { benchCache(b, false, "no-cache, no-store") }

// TestCacheHitAllocs pins what a local hit allocates per request: no
// more than the pass-through's one (fasthttp's, see
// BenchmarkProxyNonStream), i.e. nothing of the cache's own.
func TestCacheHitAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	st := newInMemoryStack(t, 0, withLocalCache)
	defer st.close()
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	req.SetRequestURI("http://llmedge.local/v1/chat/completions")
	req.Header.SetMethod("POST")
	req.Header.Set("Authorization", "Bearer "+testMasterKey)
	req.SetBodyString(`{"messages":[{"role":"user","content":"What is the weather in Paris today?"}],"model":"m"}`)
	do := func() {
		if err := st.client.Do(req, resp); err != nil || resp.StatusCode() != 200 {
			t.Fatalf("%v %d", err, resp.StatusCode())
		}
	}
	for range 10 {
		do()
	}
	if string(resp.Header.Peek("X-Llmedge-Cache")) != "hit" {
		t.Fatal("not a hit")
	}
	if n := testing.AllocsPerRun(200, do); n > 1 {
		t.Fatalf("a local hit allocates %v times per request (pass-through: 1)", n)
	}
}

// BenchmarkCacheOff is BenchmarkProxyNonStream on this file's harness
// (with the CPU metric): the pass-through to compare a hit and a miss
// with in the same run.
func BenchmarkCacheOff(b *testing.B) { benchCacheOn(b, false, "", false) }

// BenchmarkCacheOffStream64 is the 64-event stream passed through, to
// compare BenchmarkCacheHitStream64 with.
func BenchmarkCacheOffStream64(b *testing.B) { benchCacheOn(b, true, "", false) }
