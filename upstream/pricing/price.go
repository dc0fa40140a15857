package pricing

import "github.com/llmedge/llmedge/config"

// Price is what one deployment charges, in USD. A field is used only
// when its bit is in Set: an unset cache or reasoning price falls back
// to the input or output price, as LiteLLM's cost calculator does.
type Price struct {
	Input      float64 // per uncached prompt token
	Output     float64 // per completion token
	CacheRead  float64 // per prompt token read from the provider's cache
	CacheWrite float64 // per prompt token written to the provider's cache
	Reasoning  float64 // per reasoning token, when priced apart from output
	// InputPerSecond and OutputPerSecond price a call by its duration
	// (LiteLLM's input_cost_per_second / output_cost_per_second, used for
	// provisioned throughput and self-hosted deployments).
	InputPerSecond  float64
	OutputPerSecond float64
	Set             Field
}

// Field is a bit set naming Price's fields.
type Field uint8

// The fields of Price, by their LiteLLM key.
const (
	FieldInput Field = 1 << iota
	FieldOutput
	FieldCacheRead
	FieldCacheWrite
	FieldReasoning
	FieldInputPerSecond
	FieldOutputPerSecond
)

// Keys are the LiteLLM names of Price's fields, as written in
// model_info, litellm_params and the price table.
var Keys = []struct {
	Name  string
	Field Field
}{
	{"input_cost_per_token", FieldInput},
	{"output_cost_per_token", FieldOutput},
	{"cache_read_input_token_cost", FieldCacheRead},
	{"cache_creation_input_token_cost", FieldCacheWrite},
	{"output_cost_per_reasoning_token", FieldReasoning},
	{"input_cost_per_second", FieldInputPerSecond},
	{"output_cost_per_second", FieldOutputPerSecond},
}

func (p *Price) field(f Field) *float64 {
	switch f {
	case FieldInput:
		return &p.Input
	case FieldOutput:
		return &p.Output
	case FieldCacheRead:
		return &p.CacheRead
	case FieldCacheWrite:
		return &p.CacheWrite
	case FieldReasoning:
		return &p.Reasoning
	case FieldInputPerSecond:
		return &p.InputPerSecond
	case FieldOutputPerSecond:
		return &p.OutputPerSecond
	}
	return nil
}

// Known reports whether any price is set: a deployment without one
// costs nothing in the metrics and sends no x-llmedge-response-cost.
func (p Price) Known() bool { return p.Set != 0 }

// Over returns p with every field set in o replaced by o's.
func (p Price) Over(o Price) Price {
	for _, k := range Keys {
		if o.Set&k.Field != 0 {
			*p.field(k.Field) = *o.field(k.Field)
			p.Set |= k.Field
		}
	}
	return p
}

// FromMap reads the price keys of one config mapping (model_info or
// litellm_params). path is the mapping's YAML path, for errors: a value
// that is not a finite non-negative number (config.Number, the typed
// settings' number reading) is an error naming its key.
func FromMap(m map[string]any, path string) (Price, error) {
	var p Price
	for _, k := range Keys {
		v, ok := m[k.Name]
		if !ok || v == nil {
			continue
		}
		f, err := config.Number(v, "a price in USD (a number of 0 or more such as 2.5e-06)")
		if err != nil {
			return Price{}, &KeyError{Path: path + "." + k.Name, Msg: err.Error()}
		}
		*p.field(k.Field) = f
		p.Set |= k.Field
	}
	return p, nil
}

// KeyError is a bad price value: Path names its YAML key.
type KeyError struct{ Path, Msg string }

func (e *KeyError) Error() string { return e.Path + ": " + e.Msg }
