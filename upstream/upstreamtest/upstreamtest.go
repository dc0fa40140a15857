// Package upstreamtest drives an upstream.Registry the way llmedge's
// server does, without the server: a client body in, what the client
// would get out (the answer's status and body, or the stream's events,
// or the error). Tests of the providers and of the router use it with
// the fake provider APIs of upstream/provider/providertest. Only tests
// import it; it must not know the server.
package upstreamtest

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/openai/openai-go/v3"
)

// Registry builds the registry of cfg reading provider environment
// variables from env only (nil: none), closed when the test ends.
func Registry(t testing.TB, cfg *config.Config, env map[string]string) *upstream.Registry {
	t.Helper()
	reg, err := upstream.NewRegistry(cfg, upstream.Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatalf("registry: %v", err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	return reg
}

// Config is a config of deps with settings given as YAML (router_settings,
// litellm_settings...; "" for none), parsed by the config loader.
func Config(t testing.TB, settings string, deps ...*config.Deployment) *config.Config {
	t.Helper()
	cfg := &config.Config{}
	if settings != "" {
		var err error
		cfg, err = config.Parse([]byte(settings), config.Options{Getenv: func(string) (string, bool) { return "", false }})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, d := range deps {
		d.Index = i
		if d.ID == "" {
			d.ID = d.ModelName + "-" + strconv.Itoa(i)
		}
	}
	cfg.Deployments = deps
	return cfg
}

// Dep builds a deployment the way the config loader would: model is
// litellm_params.model ("provider/upstream-model").
func Dep(modelName, model, apiBase, apiKey string) *config.Deployment {
	prov, up, _ := strings.Cut(model, "/")
	return &config.Deployment{ModelName: modelName, Model: model, Provider: prov, UpstreamModel: up, APIBase: apiBase, APIKey: apiKey}
}

// Request is the request the server would build from a client's JSON
// body for route (zero: chat): the model literal located, the stream
// flags read.
func Request(body string, route upstream.Route) *upstream.ChatRequest {
	var f struct {
		Model         string `json:"model"`
		Stream        bool   `json:"stream"`
		StreamOptions struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	_ = json.Unmarshal([]byte(body), &f)
	lit, _ := json.Marshal(f.Model)
	start := bytes.Index([]byte(body), lit)
	return &upstream.ChatRequest{Body: []byte(body), ModelStart: start, ModelEnd: start + len(lit), Model: []byte(f.Model),
		Stream: f.Stream, IncludeUsage: f.StreamOptions.IncludeUsage, RequestID: []byte("req-test"), Cancel: &upstream.Cancel{}, Route: route}
}

// Result is what the client of one call would get.
type Result struct {
	// Status is the answer's status (that of Err on failure, 200 for a
	// stream).
	Status int
	// Body is the answer's body, the stream's events as relayed, or
	// Err's OpenAI error document.
	Body string
	// Err is the call's failure before any answer.
	Err *upstream.Error
	// RelayErr is what relaying a stream returned.
	RelayErr error
	// Attempts and Deployment (its ID) say who answered, as the
	// x-llmedge-attempts and x-llmedge-model-id headers do.
	Attempts   int
	Deployment string
	// Headers are the upstream headers relayed to the client.
	Headers map[string]string
	// Usage is what the answer reported.
	Usage upstream.Usage
}

// Chat runs a chat call with the client's body on reg.
func Chat(t testing.TB, reg *upstream.Registry, body string) Result {
	t.Helper()
	return Do(t, reg, Request(body, upstream.RouteChat))
}

// Do runs req on reg through the group its model names, relays a
// stream to a client in memory and releases the answer.
func Do(t testing.TB, reg *upstream.Registry, req *upstream.ChatRequest) Result {
	t.Helper()
	g := reg.Lookup(req.Model)
	if g == nil {
		t.Fatalf("no group for model %q", req.Model)
	}
	out := upstream.AcquireResponse()
	defer upstream.ReleaseResponse(out)
	err := reg.Chat(g, req, out)
	r := Result{Attempts: out.Attempts, Headers: map[string]string{}}
	if out.Deployment != nil {
		r.Deployment = out.Deployment.ID
	}
	if err != nil {
		e, ok := err.(*upstream.Error)
		if !ok {
			t.Fatalf("Chat returned %T %v, want an *upstream.Error", err, err)
		}
		r.Err, r.Status, r.Body = e, e.Status, string(e.AppendJSON(nil))
		if len(e.RetryAfter) > 0 {
			r.Headers["Retry-After"] = string(e.RetryAfter)
		}
		return r
	}
	out.VisitHeaders(func(k, v []byte) { r.Headers[string(k)] = string(v) })
	if out.Stream != nil {
		var w providertest.Writer
		r.RelayErr = out.Stream.Relay(&w)
		r.Status, r.Body = 200, w.String()
	} else {
		out.UsageFromBody()
		r.Status, r.Body = out.StatusCode, string(out.Body)
	}
	r.Usage = out.Usage
	return r
}

// Completion decodes a non-stream chat answer as the OpenAI SDK does.
func (r Result) Completion(t testing.TB) openai.ChatCompletion {
	t.Helper()
	if r.Err != nil || r.Status != 200 {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	var c openai.ChatCompletion
	if err := json.Unmarshal([]byte(r.Body), &c); err != nil {
		t.Fatalf("answer is not a chat completion: %v: %s", err, r.Body)
	}
	return c
}

// Chunks decodes a streamed chat answer's chunks as the OpenAI SDK
// does, up to [DONE]; an error event fails the test unless allowed
// (then it ends the chunks).
func (r Result) Chunks(t testing.TB) []openai.ChatCompletionChunk {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	var out []openai.ChatCompletionChunk
	for _, ev := range strings.Split(r.Body, "\n\n") {
		data, ok := strings.CutPrefix(ev, "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		if strings.HasPrefix(data, `{"error":`) {
			break
		}
		var c openai.ChatCompletionChunk
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatalf("chunk is not JSON: %v: %s", err, data)
		}
		out = append(out, c)
	}
	return out
}

// Accumulate folds a streamed chat answer's chunks as the OpenAI SDK's
// accumulator does.
func (r Result) Accumulate(t testing.TB) openai.ChatCompletionAccumulator {
	t.Helper()
	var acc openai.ChatCompletionAccumulator
	for _, c := range r.Chunks(t) {
		acc.AddChunk(c)
	}
	return acc
}
