package server

import (
	"testing"

	"github.com/llmedge/llmedge/config"
)

// withLimits gives the master key company: 20 api_keys, a global
// parallel cap and user limits, so every request goes through the
// constant-time key scan and three limiter scopes (none is reached).
func withLimits(cfg *config.Config) {
	keys := make([]any, 20)
	for i := range keys {
		keys[i] = map[string]any{"key": "sk-bench-key-" + itoa(100+i), "rpm_limit": 1 << 40, "tpm_limit": 1 << 40, "max_parallel_requests": 1 << 20}
	}
	setSettings(cfg, "general_settings", map[string]any{"api_keys": keys, "global_max_parallel_requests": 1 << 20,
		"user_rpm_limit": 1 << 40, "user_tpm_limit": 1 << 40})
}

// BenchmarkProxyNonStreamLimited is BenchmarkProxyNonStream with keys
// and limits configured: compare the two for the cost of issue 5's
// checks on the hot path.
func BenchmarkProxyNonStreamLimited(b *testing.B) { benchProxy(b, false, 0, withLimits) }

// BenchmarkProxyStream64Limited: the same for a stream (tokens counted
// from the usage chunk llmedge asks for and hides).
func BenchmarkProxyStream64Limited(b *testing.B) { benchProxy(b, true, 64, withLimits) }
