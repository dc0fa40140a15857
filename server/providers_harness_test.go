package server

import (
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream"
)

// startGatewayEnv is startGateway with provider environment variables
// (AZURE_API_VERSION, AWS_*, ...) read from env instead of the process.
func startGatewayEnv(t *testing.T, cfg *config.Config, env map[string]string) *gateway {
	t.Helper()
	reg, err := upstream.NewRegistry(cfg, upstream.Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatalf("registry: %v", err)
	}
	srv := New(cfg, reg, Options{})
	base := serveOnLoopback(t, srv)
	return &gateway{srv: srv, reg: reg, addr: strings.TrimPrefix(base, "http://")}
}
