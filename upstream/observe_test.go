package upstream

import (
	"sync"
	"testing"

	"github.com/llmedge/llmedge/config"
)

func obsDep(i int, name, model, base string) *config.Deployment {
	return &config.Deployment{Index: i, ModelName: name, ID: name, Model: model, Provider: "openai",
		UpstreamModel: model, APIBase: base, APIKey: "k"}
}

func TestReloadSharesPoolsByHost(t *testing.T) {
	noEnv := func(string) (string, bool) { return "", false }
	cfg1 := &config.Config{Deployments: []*config.Deployment{
		obsDep(0, "a", "gpt-a", "http://10.0.0.1:8080/v1"),
		obsDep(1, "b", "gpt-b", "http://10.0.0.2:8080/v1"),
	}}
	r1, err := NewRegistry(cfg1, Options{LookupEnv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	cfg2 := &config.Config{Deployments: []*config.Deployment{
		obsDep(0, "a2", "gpt-a", "http://10.0.0.1:8080/v1"), // same host, renamed model
		obsDep(1, "c", "gpt-c", "http://10.0.0.3:8080/v1"),  // new host
	}}
	r2, err := NewRegistry(cfg2, Options{LookupEnv: noEnv, Previous: r1})
	if err != nil {
		t.Fatal(err)
	}
	if r2.net.Pools != r1.net.Pools {
		t.Fatal("reloaded registry does not share the pools")
	}
	if r2.Lookup([]byte("a2")).Deployments[0].Pool != r1.Lookup([]byte("a")).Deployments[0].Pool {
		t.Error("same host got a new pool across reload")
	}
	if r2.Lookup([]byte("c")).Deployments[0].Pool == r1.Lookup([]byte("b")).Deployments[0].Pool {
		t.Error("different hosts share a pool")
	}
	if !r2.SharesCookies(r1) {
		t.Error("reload with the same cookie_store_path opened a new cookie store")
	}
	r3, err := NewRegistry(cfg2, Options{LookupEnv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	if r3.net.Pools == r1.net.Pools {
		t.Error("registry without Previous reused pools")
	}
	// New global pool settings: new pools.
	cfg4 := &config.Config{Deployments: cfg2.Deployments, Router: config.RouterSettings{ConnectionPool: &config.ConnectionPool{MaxConnections: 10}}}
	r4, err := NewRegistry(cfg4, Options{LookupEnv: noEnv, Previous: r2})
	if err != nil {
		t.Fatal(err)
	}
	if r4.net.Pools == r2.net.Pools {
		t.Error("changed connection_pool settings kept the old pools")
	}
}

type countObs struct {
	mu                 sync.Mutex
	attempts, retries  int
	fallbacks, cooling int
}

func (o *countObs) Attempt(d *Deployment, retry bool) {
	o.mu.Lock()
	o.attempts++
	if retry {
		o.retries++
	}
	o.mu.Unlock()
}
func (o *countObs) Fallback(from, to *Group) { o.mu.Lock(); o.fallbacks++; o.mu.Unlock() }
func (o *countObs) Cooldown(d *Deployment)   { o.mu.Lock(); o.cooling++; o.mu.Unlock() }

func TestObserverSeesAttemptsAndMockUsage(t *testing.T) {
	cfg := &config.Config{Deployments: []*config.Deployment{
		{Index: 0, ModelName: "m", ID: "m-0", Model: "mock/x", Provider: "mock", UpstreamModel: "x", MockResponse: "one two three", HasMockResponse: true},
	}}
	r, err := NewRegistry(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := &countObs{}
	r.SetObserver(o)
	var c Cancel
	body := []byte(`{"model":"m","stream":true}`)
	req := &ChatRequest{Body: body, ModelStart: 9, ModelEnd: 12, Model: []byte("m"), Stream: true, Cancel: &c}
	resp := AcquireResponse()
	defer ReleaseResponse(resp)
	if err := r.Chat(r.Lookup([]byte("m")), req, resp); err != nil {
		t.Fatal(err)
	}
	if o.attempts != 1 || o.retries != 0 {
		t.Fatalf("attempts=%d retries=%d", o.attempts, o.retries)
	}
	if resp.Usage.CompletionTokens != 3 || resp.Usage.PromptTokens == 0 || !resp.Usage.Reported {
		t.Fatalf("mock stream usage not observed: %+v", resp.Usage)
	}
	r.observeFallback(nil, nil)
	r.observeCooldown(nil)
	if o.fallbacks != 1 || o.cooling != 1 {
		t.Fatal("fallback/cooldown hooks not forwarded")
	}
}
