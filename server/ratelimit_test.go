package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/openai/openai-go/v3"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
)

// limitsConfig is testConfig with general_settings.
func limitsConfig(general map[string]any, deps ...*config.Deployment) *config.Config {
	cfg := testConfig(deps...)
	setSettings(cfg, "general_settings", general)
	return cfg
}

func TestKeyModelsAndLimitsOverHTTP(t *testing.T) {
	up := newFakeOpenAI(t)
	cfg := limitsConfig(map[string]any{
		"api_keys": []any{
			map[string]any{"key": "sk-team-a-0123456789", "name": "team-a", "models": []any{"gpt-4o"}, "rpm_limit": 2, "tpm_limit": "100000"},
		},
	}, dep(0, "gpt-4o", "openai/gpt-4o", up.base(), "sk-up"), dep(1, "other", "openai/other", up.base(), "sk-up"))
	gw := startGateway(t, cfg)
	client := sdk(gw, "sk-team-a-0123456789")

	p := userMsg("hi")
	p.Model = "other"
	_, err := client.Chat.Completions.New(context.Background(), p)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 403 || apiErr.Param != "model" || !strings.Contains(apiErr.Message, "'other'") {
		t.Fatalf("want 403 naming the model, got %v", err)
	}
	if strings.Contains(apiErr.RawJSON(), "sk-team-a") {
		t.Fatal("key value in an error body")
	}
	// /v1/models lists only the key's models.
	page, err := client.Models.List(context.Background())
	if err != nil || len(page.Data) != 1 || page.Data[0].ID != "gpt-4o" {
		t.Fatalf("models for team-a: %v %+v", err, page)
	}
	master := sdk(gw, testMasterKey)
	if page, err := master.Models.List(context.Background()); err != nil || len(page.Data) != 2 {
		t.Fatalf("models for master: %v", err)
	}

	p.Model = "gpt-4o"
	for i := 0; i < 2; i++ {
		resp := rawPost(t, gw, "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}`, "sk-team-a-0123456789")
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, resp.Body)
		}
		if got := resp.Header.Get("X-Ratelimit-Limit-Requests"); got != "2" {
			t.Fatalf("limit header %q (upstream's must be overridden)", got)
		}
		if got := resp.Header.Get("X-Ratelimit-Remaining-Requests"); got != fmt.Sprint(1-i) {
			t.Fatalf("remaining %q after %d", got, i)
		}
		if resp.Header.Get("X-Ratelimit-Reset-Requests") == "" || resp.Header.Get("X-Ratelimit-Limit-Tokens") != "100000" || resp.Header.Get("X-Ratelimit-Remaining-Tokens") == "" || resp.Header.Get("X-Ratelimit-Reset-Tokens") == "" {
			t.Fatalf("missing headers: %v", resp.Header)
		}
	}
	// The fake upstream reports 11 tokens per answer.
	resp := rawPost(t, gw, "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}`, "sk-team-a-0123456789")
	if resp.StatusCode != 429 {
		t.Fatalf("third request: %d %s", resp.StatusCode, resp.Body)
	}
	var e struct {
		Error struct{ Type, Code, Message string }
	}
	if json.Unmarshal([]byte(resp.Body), &e) != nil || e.Error.Type != "rate_limit_error" || !strings.Contains(e.Error.Message, "requests per minute") {
		t.Fatalf("429 body: %s", resp.Body)
	}
	if resp.Header.Get("Retry-After") == "" || resp.Header.Get("X-Ratelimit-Remaining-Requests") != "0" {
		t.Fatalf("429 headers: %v", resp.Header)
	}
	if got := resp.Header.Get("X-Ratelimit-Remaining-Tokens"); got != "99978" {
		t.Fatalf("tokens remaining %q, want 100000-2*11", got)
	}
	// The master key is not limited by team-a's limits.
	if r := rawPost(t, gw, "/v1/chat/completions", `{"model":"other","messages":[{"role":"user","content":"x"}]}`, testMasterKey); r.StatusCode != 200 {
		t.Fatalf("master: %d", r.StatusCode)
	}
}

// streamWithUsage answers a stream and, when the request asks for it,
// the usage-only chunk OpenAI documents for stream_options.include_usage.
func streamWithUsage(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		StreamOptions *struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	_ = json.Unmarshal(body, &req)
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	fmt.Fprint(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":null}],\"usage\":null}\n\n")
	fmt.Fprint(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n")
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		fmt.Fprint(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":12,\"total_tokens\":42,\"prompt_tokens_details\":{\"cached_tokens\":0}}}\n\n")
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	fl.Flush()
}

func TestStreamTokensCountedAndUsageChunkHidden(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(streamWithUsage)
	cfg := limitsConfig(map[string]any{
		"api_keys": []any{map[string]any{"key": "sk-team-t-0123456789", "tpm_limit": 100}},
	}, dep(0, "m", "openai/m", up.base(), "sk-up"))
	awayFromMinuteEnd()
	var gw *gateway
	bodies := []string{
		`{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true}`,
		`{"stream_options":{"include_usage":false},"model":"m","messages":[{"role":"user","content":"x"}],"stream":true}`,
		`{"model":"m","stream_options":{ },"messages":[{"role":"user","content":"x"}],"stream":true}`,
		`{"model":"m","stream_options":null,"messages":[{"role":"user","content":"x"}],"stream":true}`,
		`{"model":"m","stream_options":{"x":1},"messages":[{"role":"user","content":"x"}],"stream":true}`,
	}
	for i, body := range bodies {
		// A gateway per body: each starts with an empty window.
		gw = startGateway(t, cfg)
		key := gw.srv.current().auth.keys[1]
		resp := rawPost(t, gw, "/v1/chat/completions", body, "sk-team-t-0123456789")
		if resp.StatusCode != 200 {
			t.Fatalf("%d: %d %s", i, resp.StatusCode, resp.Body)
		}
		if strings.Contains(resp.Body, `"usage":{`) || !strings.Contains(resp.Body, "[DONE]") {
			t.Fatalf("%d: usage chunk reached a client that did not ask:\n%s", i, resp.Body)
		}
		sent := up.requests()[i].Body
		var m map[string]any
		if err := json.Unmarshal(sent, &m); err != nil {
			t.Fatalf("%d: upstream body invalid: %v\n%s", i, err, sent)
		}
		so, _ := m["stream_options"].(map[string]any)
		if so["include_usage"] != true {
			t.Fatalf("%d: upstream not asked for usage: %s", i, sent)
		}
		if i == 4 && so["x"] != 1.0 {
			t.Fatalf("other stream_options lost: %s", sent)
		}
		waitFor(t, 2*time.Second, "tokens counted", func() bool {
			_, toks, _ := key.sc.Counts()
			return toks == 42
		})
	}
	// A client that asks for usage gets the chunk, and the body is
	// forwarded unchanged (beyond the model).
	body := `{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}}`
	resp := rawPost(t, gw, "/v1/chat/completions", body, "sk-team-t-0123456789")
	if !strings.Contains(resp.Body, `"total_tokens":42`) {
		t.Fatalf("client asked for usage and did not get it:\n%s", resp.Body)
	}
	reqs := up.requests()
	if got := string(reqs[len(reqs)-1].Body); got != body {
		t.Fatalf("body changed: %s", got)
	}
	// 84 tokens now counted against 100: one more admitted, then 429.
	rawPost(t, gw, "/v1/chat/completions", body, "sk-team-t-0123456789")
	waitFor(t, 2*time.Second, "tpm reached", func() bool {
		return rawPost(t, gw, "/v1/chat/completions", body, "sk-team-t-0123456789").StatusCode == 429
	})
}

func TestParallelLimitOverHTTP(t *testing.T) {
	up := newFakeOpenAI(t)
	release := make(chan struct{})
	var inUpstream atomic.Int64
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		inUpstream.Add(1)
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		answerJSON("ok")(w, r, body)
	})
	cfg := limitsConfig(map[string]any{"global_max_parallel_requests": 2}, dep(0, "m", "openai/m", up.base(), "k"))
	gw := startGateway(t, cfg)
	results := make(chan int, 2)
	for i := 0; i < 2; i++ {
		go func() {
			results <- rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, testMasterKey).StatusCode
		}()
	}
	waitFor(t, 5*time.Second, "two requests upstream", func() bool { return inUpstream.Load() == 2 })
	resp := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if resp.StatusCode != 429 || !strings.Contains(resp.Body, "parallel") || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("third: %d %s", resp.StatusCode, resp.Body)
	}
	close(release)
	for i := 0; i < 2; i++ {
		if s := <-results; s != 200 {
			t.Fatalf("held request: %d", s)
		}
	}
	if r := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, testMasterKey); r.StatusCode != 200 {
		t.Fatalf("after release: %d", r.StatusCode)
	}
}

// A user over user_rpm_limit is refused, through HTTP with the user
// named by the memory header; another user is not.
func TestUserLimit(t *testing.T) {
	up := newFakeOpenAI(t)
	cfg := limitsConfig(map[string]any{"user_rpm_limit": 1}, dep(0, "m", "openai/m", up.base(), "k"))
	gw := startGateway(t, cfg)
	awayFromMinuteEnd()
	as := func(user string) rawResponse {
		return rawRequest(t, gw, "POST", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`,
			"Authorization: Bearer "+testMasterKey, "X-Memory-User-Id: "+user)
	}
	if r := as("alice"); r.StatusCode != 200 {
		t.Fatalf("alice's first request: %d %s", r.StatusCode, r.Body)
	}
	if r := as("alice"); r.StatusCode != 429 || !strings.Contains(r.Body, "user limit") {
		t.Fatalf("alice over her rpm: %d %s", r.StatusCode, r.Body)
	}
	if r := as("bob"); r.StatusCode != 200 {
		t.Fatalf("bob refused: %d %s", r.StatusCode, r.Body)
	}
}

func TestConfigErrors(t *testing.T) {
	// Types are the loader's to check...
	_, err := config.Parse([]byte(`
general_settings:
  api_keys: [{key: zq9x, rpm_limit: -1, bogus: 1}, x]
  global_max_parallel_requests: many
  cors_allow_origins: 7
`), config.Options{})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"api_keys[0].rpm_limit", "api_keys[0].bogus", "api_keys[1]", "global_max_parallel_requests", "cors_allow_origins"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
	// ... what the values mean is the server's.
	err = CheckConfig(limitsConfig(map[string]any{"api_keys": []any{map[string]any{"key": "zq9x"}}}))
	if err == nil || !strings.Contains(err.Error(), "api_keys[0].key") {
		t.Errorf("error does not name api_keys[0].key: %v", err)
	}
	if err != nil && strings.Contains(err.Error(), "zq9x") {
		t.Error("key value in a config error")
	}
}
