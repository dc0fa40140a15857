package pricing

import (
	"math"
	"strings"
	"testing"
	"time"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12+1e-9*math.Abs(b) }

func TestBuiltinTableHasSourceAndCommonModels(t *testing.T) {
	if Builtin.Source == "" || len(Builtin.Commit) != 40 || Builtin.Retrieved == "" {
		t.Fatalf("table lacks its source: %+v", Builtin)
	}
	for _, c := range []struct{ provider, model string }{
		{"openai", "gpt-4o"}, {"openai", "gpt-4o-mini"}, {"openai", "gpt-4.1"},
		{"anthropic", "claude-sonnet-4-5"}, {"anthropic", "claude-opus-4-1"},
		{"bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"},
		{"gemini", "gemini-2.5-flash"}, {"vertex_ai", "gemini-2.5-flash"},
		{"vertex_ai", "claude-sonnet-4-5@20250929"},
		{"azure", "gpt-4o"}, {"groq", "llama-3.3-70b-versatile"}, {"deepseek", "deepseek-chat"},
		{"mistral", "mistral-large-latest"}, {"mistral", "mistral-small-latest"},
		{"xai", "grok-4.5"}, {"xai", "grok-4-1-fast-reasoning"}, {"xai", "grok-code-fast-1"},
	} {
		if p, ok := Builtin.Lookup(c.provider, c.model); !ok || p.Set&FieldInput == 0 || p.Set&FieldOutput == 0 {
			t.Errorf("%s/%s: no input and output price", c.provider, c.model)
		}
	}
	if _, ok := Builtin.Lookup("openai", "no-such-model"); ok {
		t.Error("unknown model priced")
	}
}

// The table's own numbers, checked against LiteLLM's for one model of
// each kind: a cached OpenAI call and an Anthropic call that writes and
// reads the cache.
func TestCostFromTableCachedTokens(t *testing.T) {
	p, _ := Builtin.Lookup("openai", "gpt-4o")
	// 1000 prompt tokens of which 400 cached, 100 completion.
	got := p.Cost(Usage{Prompt: 1000, CacheRead: 400, Completion: 100})
	want := 600*2.5e-06 + 400*1.25e-06 + 100*1e-05
	if !near(got, want) {
		t.Fatalf("gpt-4o cost %v, want %v", got, want)
	}
	if full := p.Cost(Usage{Prompt: 1000, Completion: 100}); !(full > got) {
		t.Fatalf("cached call (%v) not cheaper than uncached (%v)", got, full)
	}
	a, _ := Builtin.Lookup("anthropic", "claude-sonnet-4-5")
	got = a.Cost(Usage{Prompt: 3000, CacheRead: 1000, CacheWrite: 1500, Completion: 200})
	want = 500*3e-06 + 1000*3e-07 + 1500*3.75e-06 + 200*1.5e-05
	if !near(got, want) {
		t.Fatalf("claude cost %v, want %v", got, want)
	}
}

// xAI's entries as LiteLLM keys them ("xai/…"), cached prompt tokens at
// the cache-read price: the numbers are LiteLLM's at the table's commit.
func TestCostXAICachedTokens(t *testing.T) {
	for _, c := range []struct {
		model                string
		input, output, cache float64
	}{
		{"grok-4.5", 2e-06, 6e-06, 5e-07},
		{"grok-4.3", 1.25e-06, 2.5e-06, 2e-07},
		{"grok-4-1-fast-reasoning", 2e-07, 5e-07, 5e-08},
		{"grok-code-fast-1", 2e-07, 1.5e-06, 2e-08},
	} {
		p, ok := Builtin.Lookup("xai", c.model)
		if !ok {
			t.Fatalf("xai/%s not in the table", c.model)
		}
		got := p.Cost(Usage{Prompt: 1000, CacheRead: 600, Completion: 50})
		if want := 400*c.input + 600*c.cache + 50*c.output; !near(got, want) {
			t.Errorf("xai/%s cost %v, want %v", c.model, got, want)
		}
	}
	// grok-4 has no cache-read price in LiteLLM's map: cached tokens
	// cost the input price.
	p, _ := Builtin.Lookup("xai", "grok-4")
	if got, want := p.Cost(Usage{Prompt: 1000, CacheRead: 600, Completion: 50}), 1000*3e-06+50*1.5e-05; !near(got, want) {
		t.Errorf("xai/grok-4 cost %v, want %v", got, want)
	}
	if _, ok := Builtin.Lookup("", "grok-4.5"); ok {
		t.Error("bare grok-4.5 priced: LiteLLM keys xAI models under xai/ only")
	}
}

func TestCostReasoningAndFallbacks(t *testing.T) {
	p := Price{Input: 1e-6, Output: 2e-6, Reasoning: 5e-6, Set: FieldInput | FieldOutput | FieldReasoning}
	if got, want := p.Cost(Usage{Prompt: 10, Completion: 30, Reasoning: 20}), 10*1e-6+10*2e-6+20*5e-6; !near(got, want) {
		t.Fatalf("reasoning priced apart: %v, want %v", got, want)
	}
	// No cache or reasoning price: cached at input, reasoning at output.
	q := Price{Input: 1e-6, Output: 2e-6, Set: FieldInput | FieldOutput}
	if got, want := q.Cost(Usage{Prompt: 10, CacheRead: 5, CacheWrite: 5, Completion: 30, Reasoning: 20}), 10*1e-6+30*2e-6; !near(got, want) {
		t.Fatalf("fallback prices: %v, want %v", got, want)
	}
	// Counts that do not add up never make a part negative.
	if got := q.Cost(Usage{Prompt: 10, CacheRead: 50, Completion: 1, Reasoning: 9}); got < 0 || !near(got, 10*1e-6+1*2e-6) {
		t.Fatalf("inconsistent counts: %v", got)
	}
	if (&Price{}).Cost(Usage{Prompt: 1e6}) != 0 {
		t.Fatal("an unknown price costs something")
	}
}

func TestCostPerSecond(t *testing.T) {
	p, err := FromMap(map[string]any{"input_cost_per_second": 0.011, "output_cost_per_second": "0.001"}, "x")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Cost(Usage{Prompt: 100, Completion: 100, Duration: 2500 * time.Millisecond}), 2.5*0.012; !near(got, want) {
		t.Fatalf("per-second cost %v, want %v", got, want)
	}
}

// Each pricing source: the table alone, model_info over it, and
// litellm_params over both, field by field.
func TestResolveSources(t *testing.T) {
	u := Usage{Prompt: 1000, CacheRead: 200, Completion: 100}
	table, err := Builtin.Resolve("openai", "gpt-4o-mini", nil, nil, "model_list[0]")
	if err != nil {
		t.Fatal(err)
	}
	if want := 800*1.5e-07 + 200*7.5e-08 + 100*6e-07; !near(table.Cost(u), want) {
		t.Fatalf("table: %v, want %v", table.Cost(u), want)
	}
	info, err := Builtin.Resolve("openai", "gpt-4o-mini", map[string]any{"input_cost_per_token": 1e-06}, nil, "model_list[0]")
	if err != nil {
		t.Fatal(err)
	}
	// input from model_info; cache read and output still the table's
	if want := 800*1e-06 + 200*7.5e-08 + 100*6e-07; !near(info.Cost(u), want) {
		t.Fatalf("model_info: %v, want %v", info.Cost(u), want)
	}
	params, err := Builtin.Resolve("openai", "gpt-4o-mini",
		map[string]any{"input_cost_per_token": 1e-06},
		map[string]any{"input_cost_per_token": 2e-06, "cache_read_input_token_cost": "0", "output_cost_per_token": 3e-06}, "model_list[0]")
	if err != nil {
		t.Fatal(err)
	}
	if want := 800*2e-06 + 100*3e-06; !near(params.Cost(u), want) {
		t.Fatalf("litellm_params: %v, want %v", params.Cost(u), want)
	}
	// base_model names the priced model of a deployment named otherwise.
	az, _ := Builtin.Resolve("azure", "my-deployment", map[string]any{"base_model": "gpt-4o"}, nil, "model_list[1]")
	ref, _ := Builtin.Lookup("openai", "gpt-4o")
	if az.Cost(u) != ref.Cost(u) || !az.Known() {
		t.Fatalf("base_model: %v, want %v", az.Cost(u), ref.Cost(u))
	}
	none, _ := Builtin.Resolve("hosted_vllm", "my-llama", nil, nil, "model_list[2]")
	if none.Known() {
		t.Fatal("an unpriced self-hosted model has a price")
	}
}

func TestResolveBadValueNamesKey(t *testing.T) {
	for _, c := range []struct {
		info, params map[string]any
		want         string
	}{
		{map[string]any{"input_cost_per_token": "cheap"}, nil, "model_list[4].model_info.input_cost_per_token"},
		{nil, map[string]any{"output_cost_per_token": -1.0}, "model_list[4].litellm_params.output_cost_per_token"},
		{nil, map[string]any{"cache_read_input_token_cost": []any{1}}, "model_list[4].litellm_params.cache_read_input_token_cost"},
		{map[string]any{"input_cost_per_second": math.Inf(1)}, nil, "model_list[4].model_info.input_cost_per_second"},
	} {
		_, err := Builtin.Resolve("openai", "gpt-4o", c.info, c.params, "model_list[4]")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: error %v, want one naming %s", c.info, c.params, err, c.want)
		}
	}
}

func BenchmarkCost(b *testing.B) {
	p, _ := Builtin.Lookup("anthropic", "claude-sonnet-4-5")
	u := Usage{Prompt: 3000, CacheRead: 1000, CacheWrite: 1500, Completion: 200}
	b.ReportAllocs()
	var s float64
	for b.Loop() {
		s += p.Cost(u)
	}
	_ = s
}
