package main

import (
	"context"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/tracing"
	"github.com/llmedge/llmedge/server"
)

// startTracing builds the OpenTelemetry tracer when litellm_settings
// turns the otel callback on (nil when it does not), configured by the
// OTEL_* variables. It is decided once at start: a reload does not turn
// tracing on or off.
func startTracing(cfg *config.Config) (*tracing.Tracer, error) {
	if !tracing.Enabled(cfg.LiteLLM.Callbacks, cfg.LiteLLM.SuccessCallback) {
		return nil, nil
	}
	return tracing.New(context.Background(), tracing.Options{Version: server.Version, NoContent: cfg.LiteLLM.TurnOffMessageLogging})
}
