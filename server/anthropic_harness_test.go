package server

import (
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
)

// The fake Anthropic Messages API is providertest's (written from
// Anthropic's documented wire format); these are its names for the
// server's tests.

const anthropicTestKey = providertest.AnthropicKey

// anEvent is one SSE event of a fake stream.
type anEvent struct{ name, data string }

func anEv(e providertest.AnEvent) anEvent { return anEvent{e.Name, e.Data} }

func anStart(model string, input, cacheRead, cacheWrite int) anEvent {
	return anEv(providertest.AnStart(model, input, cacheRead, cacheWrite))
}
func anBlockStart(i int, block string) anEvent  { return anEv(providertest.AnBlockStart(i, block)) }
func anDelta(i int, delta string) anEvent       { return anEv(providertest.AnDelta(i, delta)) }
func anTextDelta(i int, text string) anEvent    { return anEv(providertest.AnTextDelta(i, text)) }
func anBlockStop(i int) anEvent                 { return anEv(providertest.AnBlockStop(i)) }
func anMessageDelta(stop string, n int) anEvent { return anEv(providertest.AnMessageDelta(stop, n)) }

var (
	anPing = anEv(providertest.AnPing)
	anStop = anEv(providertest.AnStop)

	anthropicJSON         = providertest.AnthropicJSON
	anthropicFail         = providertest.AnthropicFail
	checkAnthropicRequest = providertest.CheckAnthropicRequest
)

// anthropicSSE streams events, flushing each.
func anthropicSSE(events ...anEvent) providertest.Handler {
	evs := make([]providertest.AnEvent, len(events))
	for i, e := range events {
		evs[i] = providertest.AnEvent{Name: e.name, Data: e.data}
	}
	return providertest.AnthropicSSE(evs...)
}

func anthropicDep(i int, modelName string, up *fakeOpenAI) *config.Deployment {
	return dep(i, modelName, "anthropic/claude-sonnet-4-5", "http://"+up.ln.Addr().String(), anthropicTestKey)
}

// startGatewayWith is startGateway with registry options (dialer).
func startGatewayWith(t *testing.T, cfg *config.Config, opts upstream.Options) *gateway {
	t.Helper()
	if opts.LookupEnv == nil {
		opts.LookupEnv = func(string) (string, bool) { return "", false }
	}
	reg, err := upstream.NewRegistry(cfg, opts)
	if err != nil {
		t.Fatalf("registry: %v", err)
	}
	srv := New(cfg, reg, Options{})
	base := serveOnLoopback(t, srv)
	return &gateway{srv: srv, reg: reg, addr: strings.TrimPrefix(base, "http://")}
}
