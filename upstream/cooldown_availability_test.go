package upstream

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
)

// availability is what one run of the harness measured.
type availability struct {
	requests, ok, cooling int
	attempts              int
	took                  time.Duration
}

// noisyUpstream answers 500 to a share failRate of calls (drawn at
// random, seeded) and a small chat completion to the rest.
func noisyUpstream(t *testing.T, failRate float64, seed uint64) string {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, seed))
	return fakeUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		fail := rng.Float64() < failRate
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if fail {
			w.WriteHeader(500)
			_, _ = io.WriteString(w, `{"error":{"message":"boom","type":"server_error","param":null,"code":null}}`)
			return
		}
		_, _ = io.WriteString(w, `{"id":"c","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	})
}

// refusedBase is an api_base on a loopback port nothing listens on.
func refusedBase(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr + "/v1"
}

// measureAvailability sends n chat calls at concurrency c to a group of
// the given api_bases with default router settings and counts the
// answers that were not errors, the 429 deployments_cooling_down
// answers and the upstream attempts.
func measureAvailability(t *testing.T, bases []string, n, c int) availability {
	cfg := &config.Config{}
	for i, b := range bases {
		cfg.Deployments = append(cfg.Deployments, &config.Deployment{Index: i, ModelName: "m", ID: "m-" + strconv.Itoa(i),
			Model: "openai/gpt-4o", Provider: "openai", UpstreamModel: "gpt-4o", APIBase: b, APIKey: "k"})
	}
	reg, err := NewRegistry(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := reg.Lookup([]byte("m"))
	var next, ok, cooling, attempts atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				out := AcquireResponse()
				req := request(RouteChat, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, false)
				err := reg.Chat(g, req, out)
				attempts.Add(int64(out.Attempts))
				var ue *Error
				switch {
				case err == nil:
					ok.Add(1)
				case errors.As(err, &ue) && ue.Code == "deployments_cooling_down":
					cooling.Add(1)
				}
				ReleaseResponse(out)
			}
		})
	}
	wg.Wait()
	return availability{requests: n, ok: int(ok.Load()), cooling: int(cooling.Load()), attempts: int(attempts.Load()), took: time.Since(start)}
}

// TestCooldownAvailabilityTable is the harness behind the table in
// docs/reliability.md: availability (share of calls answered without an
// error) and upstream attempts per call at 1/5/20/60% upstream 500s and
// a hard outage (connection refused), for a group of two deployments
// and for a single one, default router settings. It runs only when
// LLMEDGE_AVAILABILITY is set (it takes minutes); LLMEDGE_AVAILABILITY_N
// and _C change the 300 calls at concurrency 5.
//
//	LLMEDGE_AVAILABILITY=1 go test -count=1 -run TestCooldownAvailabilityTable -v ./upstream
func TestCooldownAvailabilityTable(t *testing.T) {
	if os.Getenv("LLMEDGE_AVAILABILITY") == "" {
		t.Skip("set LLMEDGE_AVAILABILITY=1 to measure (takes minutes)")
	}
	n, c := 300, 5
	if v, err := strconv.Atoi(os.Getenv("LLMEDGE_AVAILABILITY_N")); err == nil && v > 0 {
		n = v
	}
	if v, err := strconv.Atoi(os.Getenv("LLMEDGE_AVAILABILITY_C")); err == nil && v > 0 {
		c = v
	}
	out := fmt.Sprintf("%d calls at concurrency %d, default router settings\n\n", n, c)
	out += "| upstream | deployments | availability | 429 cooling | upstream calls per call | wall time |\n|---|---|---|---|---|---|\n"
	for _, rate := range []float64{0.01, 0.05, 0.20, 0.60, 1} {
		for _, size := range []int{2, 1} {
			var bases []string
			for i := range size {
				if rate == 1 {
					bases = append(bases, refusedBase(t))
				} else {
					bases = append(bases, noisyUpstream(t, rate, uint64(i+1)))
				}
			}
			a := measureAvailability(t, bases, n, c)
			what := fmt.Sprintf("%.0f%% 500s", rate*100)
			if rate == 1 {
				what = "hard outage (refused)"
			}
			out += fmt.Sprintf("| %s | %d | %.1f%% | %.1f%% | %.2f | %.1fs |\n", what, size,
				100*float64(a.ok)/float64(a.requests), 100*float64(a.cooling)/float64(a.requests),
				float64(a.attempts)/float64(a.requests), a.took.Seconds())
		}
	}
	t.Log("\n" + out)
}
