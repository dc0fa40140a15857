package server

import (
	"context"
	"errors"
	"fmt"
	"github.com/openai/openai-go/v3"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmedge/llmedge/server/request"
)

// tpmBurst sends n concurrent chat completions (max_tokens 50) through
// the gateways in turn while the fake upstream holds every admitted one
// until all n were decided, so that no answer completes (and settles)
// before the others are admitted. Every answer reports 70 tokens. It
// returns how many were admitted and refused.
func tpmBurst(t *testing.T, gws []*gateway, up *fakeOpenAI, key string, n int) (admitted, refused int64) {
	t.Helper()
	var arrived, limited atomic.Int64
	allDecided := make(chan struct{})
	var once sync.Once
	decided := func() {
		if arrived.Load()+limited.Load() == int64(n) {
			once.Do(func() { close(allDecided) })
		}
	}
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		arrived.Add(1)
		decided()
		select {
		case <-allDecided:
		case <-time.After(10 * time.Second):
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":20,"completion_tokens":50,"total_tokens":70}}`)
	})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(gw *gateway) {
			defer wg.Done()
			p := userMsg("hello")
			p.Model = "m"
			p.MaxTokens = openai.Int(50)
			client := sdk(gw, key)
			_, err := client.Chat.Completions.New(context.Background(), p)
			var apiErr *openai.Error
			switch {
			case err == nil:
			case errors.As(err, &apiErr) && apiErr.StatusCode == 429:
				limited.Add(1)
				decided()
			default:
				errs <- err
			}
		}(gws[i%len(gws)])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("request failed: %v", err)
	}
	return arrived.Load(), limited.Load()
}

// tpmEstimate is what the gateway reserves for one tpmBurst request:
// its body bytes / 4 plus max_tokens.
func tpmEstimate() int64 {
	body := `{"messages":[{"content":"hello","role":"user"}],"model":"m","max_tokens":50}`
	return int64(len(body))/4 + 50 // limits.EstimateTokens: 4 bytes a token
}

// 200 concurrent requests against tpm_limit 1000 used to be admitted
// all at once (tokens were counted only when answers completed): 2,900
// tokens spent. Each admission now reserves its estimate.
func TestTPMReservedAtAdmissionUnderConcurrency(t *testing.T) {
	up := newFakeOpenAI(t)
	const key = "sk-team-tpm-0123456789"
	cfg := limitsConfig(map[string]any{
		"api_keys": []any{map[string]any{"key": key, "name": "tpm", "tpm_limit": 1000}},
	}, dep(0, "m", "openai/m", up.base(), "sk-up"))
	gw := startGateway(t, cfg)
	awayFromMinuteEnd()
	admitted, refused := tpmBurst(t, []*gateway{gw}, up, key, 200)
	spent := admitted * 70
	if bound := 1000 + tpmEstimate(); spent > bound {
		t.Fatalf("admitted %d (refused %d): %d tokens spent, bound %d", admitted, refused, spent, bound)
	}
	if admitted == 0 {
		t.Fatal("nothing admitted")
	}
	// Settled: the window holds what was spent, not what was reserved.
	sc := gw.srv.current().auth.keys[1].sc
	waitFor(t, 5*time.Second, "reservations settled", func() bool {
		_, toks, inFlight := sc.Counts()
		return toks == spent && inFlight == 0
	})
}

// A failed call releases its whole reservation; a completed one keeps
// only what the upstream reported.
func TestTPMReservationReleasedOnFailure(t *testing.T) {
	up := newFakeOpenAI(t)
	const key = "sk-team-tpm-0123456789"
	cfg := limitsConfig(map[string]any{
		"api_keys": []any{map[string]any{"key": key, "tpm_limit": 1000}},
	}, dep(0, "m", "openai/m", up.base(), "sk-up"))
	gw := startGateway(t, cfg)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		fmt.Fprint(w, `{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}`)
	})
	awayFromMinuteEnd()
	sc := gw.srv.current().auth.keys[1].sc
	if r := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","max_tokens":900,"messages":[{"role":"user","content":"x"}]}`, key); r.StatusCode != 400 {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	_, toks, _ := sc.Counts()
	if toks != 0 {
		t.Fatalf("failed call left %d tokens reserved", toks)
	}
}

// The scan reads the output caps the token estimate needs
// (limits.EstimateTokens; limits/tokens_test.go checks the arithmetic).
func TestScanReadsOutputCaps(t *testing.T) {
	cases := []struct {
		body      string
		maxOut, n int64
	}{
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":10}`, 10, 0},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"max_completion_tokens":10,"n":3}`, 10, 3},
		{`{"model":"m","input":"x","max_output_tokens":10}`, 10, 0},
		{`{"model":"m","messages":[{"role":"user","content":"x"}]}`, 0, 0},
	}
	for _, c := range cases {
		var f request.Fields
		if err := request.Scan([]byte(c.body), &f, false); err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		if f.MaxOut != c.maxOut || f.N != c.n {
			t.Errorf("%s: maxOut %d n %d, want %d %d", c.body, f.MaxOut, f.N, c.maxOut, c.n)
		}
	}
}
