package tracing

import (
	"fmt"
	"strings"
)

// Enabled reports whether litellm_settings turns OpenTelemetry on the
// way LiteLLM does: "otel" in callbacks or success_callback (a list, or
// one string). raw is litellm_settings after os.environ resolution.
// Other callback names are LiteLLM integrations llmedge does not run;
// a value that is neither a string nor a list of strings is an error
// naming the key.
func Enabled(raw map[string]any) (bool, error) {
	on := false
	for _, key := range []string{"callbacks", "success_callback"} {
		v, ok := raw[key]
		if !ok || v == nil {
			continue
		}
		var names []string
		switch x := v.(type) {
		case string:
			names = []string{x}
		case []any:
			for i, e := range x {
				s, ok := e.(string)
				if !ok {
					return false, fmt.Errorf("litellm_settings.%s[%d]: want a callback name, got a %T", key, i, e)
				}
				names = append(names, s)
			}
		default:
			return false, fmt.Errorf("litellm_settings.%s: want a list of callback names, got a %T", key, v)
		}
		for _, n := range names {
			if strings.EqualFold(strings.TrimSpace(n), "otel") {
				on = true
			}
		}
	}
	return on, nil
}
