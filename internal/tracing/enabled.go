package tracing

import "strings"

// Enabled reports whether LiteLLM's callback lists
// (litellm_settings.callbacks, success_callback) name "otel", which is
// how LiteLLM users turn OpenTelemetry on. Other names are LiteLLM
// integrations llmedge does not run.
func Enabled(lists ...[]string) bool {
	for _, l := range lists {
		for _, n := range l {
			if strings.EqualFold(strings.TrimSpace(n), "otel") {
				return true
			}
		}
	}
	return false
}
