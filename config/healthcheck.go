package config

import "time"

// HealthCheck is a deployment's health-probe settings, read from its
// model_info under LiteLLM's names (docs/operations.md#health). Zero
// values mean the defaults of the server's probes.
type HealthCheck struct {
	// Model is model_info.health_check_model: the model a wildcard or
	// catch-all deployment is probed with ("openai/gpt-4o-mini"); "" =
	// the deployment's own.
	Model string
	// Timeout is model_info.health_check_timeout: one probe's bound
	// (0 = the server's default).
	Timeout time.Duration
	// MaxTokens is model_info.health_check_max_tokens: max_tokens of a
	// probe that is a call (0 = 1).
	MaxTokens int
	// SkipBackground is model_info.disable_background_health_check: the
	// background probes leave the deployment out (GET /health?model=
	// still probes it).
	SkipBackground bool
}

// healthCheck reads the health-probe keys of a model_info mapping.
func (b *builder) healthCheck(mi *node, path string) HealthCheck {
	var h HealthCheck
	h.Model, _ = b.str(mi.get("health_check_model"), path+".health_check_model")
	h.Timeout, _ = b.duration(mi.get("health_check_timeout"), path+".health_check_timeout", time.Millisecond, 10*time.Minute)
	if n, ok := b.whole(mi.get("health_check_max_tokens"), path+".health_check_max_tokens", 1, 1<<20); ok {
		h.MaxTokens = int(n)
	}
	h.SkipBackground = b.boolean(mi.get("disable_background_health_check"), path+".disable_background_health_check")
	return h
}
