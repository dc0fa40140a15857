package pricing

import "time"

// Usage is what one call consumed, as the upstream reported it.
type Usage struct {
	// Prompt is every prompt token, cached ones included (OpenAI's
	// prompt_tokens; Anthropic's input_tokens plus its cache tokens).
	Prompt int64
	// CacheRead and CacheWrite are the part of Prompt read from and
	// written to the provider's prompt cache.
	CacheRead, CacheWrite int64
	// Completion is every completion token, reasoning included.
	Completion int64
	// Reasoning is the part of Completion spent reasoning.
	Reasoning int64
	// Duration is the call's length, for per-second prices.
	Duration time.Duration
}

// Cost is the USD price of u at p. Cached prompt tokens are priced at
// the cache read and write prices (the input price when the deployment
// has none), reasoning tokens at the reasoning price (else the output
// price), the rest at the input and output prices, plus the per-second
// prices times the call's duration. Counts the upstream got wrong
// (cached above the prompt) never make a part negative.
func (p *Price) Cost(u Usage) float64 {
	if p.Set == 0 {
		return 0
	}
	cacheRead, cacheWrite := p.Input, p.Input
	if p.Set&FieldCacheRead != 0 {
		cacheRead = p.CacheRead
	}
	if p.Set&FieldCacheWrite != 0 {
		cacheWrite = p.CacheWrite
	}
	reasoning := p.Output
	if p.Set&FieldReasoning != 0 {
		reasoning = p.Reasoning
	}
	read := min(max(u.CacheRead, 0), max(u.Prompt, 0))
	write := min(max(u.CacheWrite, 0), max(u.Prompt, 0)-read)
	plain := max(u.Prompt, 0) - read - write
	think := min(max(u.Reasoning, 0), max(u.Completion, 0))
	answer := max(u.Completion, 0) - think
	c := float64(plain)*p.Input + float64(read)*cacheRead + float64(write)*cacheWrite +
		float64(answer)*p.Output + float64(think)*reasoning
	if p.Set&(FieldInputPerSecond|FieldOutputPerSecond) != 0 && u.Duration > 0 {
		c += u.Duration.Seconds() * (p.InputPerSecond + p.OutputPerSecond)
	}
	return c
}
