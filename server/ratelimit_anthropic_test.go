package server

import (
	"fmt"
	"testing"
	"time"
)

// Tokens are counted on every route to anthropic/ deployments: native
// /v1/messages (JSON and stream) and translated /v1/chat/completions
// (JSON and stream).
func TestTokensCountedForAnthropic(t *testing.T) {
	up := newFakeOpenAI(t)
	const key = "sk-team-anthropic-0123"
	cfg := limitsConfig(map[string]any{"api_keys": []any{map[string]any{"key": key, "tpm_limit": 1000000}}}, anthropicDep(0, "claude", up))
	gw := startGateway(t, cfg)
	sc := gw.srv.current().auth.keys[1].sc
	tokens := func() int64 {
		_, toks, _ := sc.Counts()
		return toks
	}
	stream := anthropicSSE(anStart("claude-sonnet-4-5", 30, 0, 0), anBlockStart(0, `{"type":"text","text":""}`),
		anTextDelta(0, "Hi"), anBlockStop(0), anMessageDelta("end_turn", 12), anStop)
	awayFromMinuteEnd()
	var want int64
	for _, tc := range []struct {
		name, path, body string
		stream           bool
		n                int64
	}{
		{"native json", "/v1/messages", fmt.Sprintf(claudeCodeBody, ""), false, 10 + 2},
		{"native stream", "/v1/messages", fmt.Sprintf(claudeCodeBody, `,"stream":true`), true, 30 + 12},
		{"translated json", "/v1/chat/completions", `{"model":"claude","messages":[{"role":"user","content":"x"}]}`, false, 10 + 2},
		{"translated stream", "/v1/chat/completions", `{"model":"claude","messages":[{"role":"user","content":"x"}],"stream":true}`, true, 30 + 12},
	} {
		if tc.stream {
			up.setHandler(stream)
		} else {
			up.setHandler(anthropicJSON(`[{"type":"text","text":"Hello!"}]`, "end_turn", 10, 2, 0, 0))
		}
		r := rawRequest(t, gw, "POST", tc.path, tc.body, "x-api-key: "+key, "anthropic-version: 2023-06-01")
		if r.StatusCode != 200 {
			t.Fatalf("%s: %d %s", tc.name, r.StatusCode, r.Body)
		}
		want += tc.n
		waitFor(t, 2*time.Second, tc.name+" tokens counted", func() bool { return tokens() == want })
	}
}
