package server

import (
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
)

// Keys and limits reload with the config; a key whose value and limits
// did not change keeps its counters; invalid settings are rejected and
// the running ones kept.
func TestKeysAndLimitsReload(t *testing.T) {
	const keyA, keyB = "sk-team-a-reload-01", "sk-team-b-reload-02"
	keys := func(list ...map[string]any) *config.Config {
		l := make([]any, len(list))
		for i, k := range list {
			l[i] = k
		}
		return limitsConfig(map[string]any{"api_keys": l}, dep(0, "m", "mock/m", "", ""))
	}
	a := map[string]any{"key": keyA, "rpm_limit": 2}
	gw, _ := startObserved(t, keys(a), Options{})
	awayFromMinuteEnd()
	for i := 0; i < 2; i++ {
		if r := rawPost(t, gw, "/v1/chat/completions", hostileBody(""), keyA); r.StatusCode != 200 {
			t.Fatalf("%d: %d %s", i, r.StatusCode, r.Body)
		}
	}
	if r := rawPost(t, gw, "/v1/chat/completions", hostileBody(""), keyB); r.StatusCode != 401 {
		t.Fatalf("unknown key B: %d", r.StatusCode)
	}
	if err := gw.srv.Apply(keys(a, map[string]any{"key": keyB})); err != nil {
		t.Fatal(err)
	}
	if r := rawPost(t, gw, "/v1/chat/completions", hostileBody(""), keyA); r.StatusCode != 429 {
		t.Fatalf("key A's window was reset by the reload: %d", r.StatusCode)
	}
	if r := rawPost(t, gw, "/v1/chat/completions", hostileBody(""), keyB); r.StatusCode != 200 {
		t.Fatalf("key B after reload: %d", r.StatusCode)
	}
	err := gw.srv.Apply(keys(map[string]any{"key": "short"}))
	if err == nil || !strings.Contains(err.Error(), "api_keys[0].key") {
		t.Fatalf("invalid api_keys accepted: %v", err)
	}
	if r := rawPost(t, gw, "/v1/chat/completions", hostileBody(""), keyB); r.StatusCode != 200 {
		t.Fatalf("running config lost after a rejected reload: %d", r.StatusCode)
	}
}
