package pricing

import (
	_ "embed"
	"encoding/json"
	"strings"
)

//go:embed prices.json
var pricesJSON []byte

// Table is the built-in price table: prices.json, read once.
type Table struct {
	// Source, Commit and Retrieved say where the prices come from.
	Source, Commit, Retrieved string
	models                    map[string]Price
}

// Builtin is the table compiled into llmedge.
var Builtin = mustLoad(pricesJSON)

func mustLoad(b []byte) *Table {
	t, err := load(b)
	if err != nil {
		panic("pricing: prices.json: " + err.Error())
	}
	return t
}

func load(b []byte) (*Table, error) {
	var raw struct {
		Source    string                    `json:"source"`
		Commit    string                    `json:"source_commit"`
		Retrieved string                    `json:"retrieved"`
		Models    map[string]map[string]any `json:"models"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	t := &Table{Source: raw.Source, Commit: raw.Commit, Retrieved: raw.Retrieved, models: make(map[string]Price, len(raw.Models))}
	for name, m := range raw.Models {
		p, err := FromMap(m, "models."+name)
		if err != nil {
			return nil, err
		}
		t.models[name] = p
	}
	return t, nil
}

// Len is the number of models priced.
func (t *Table) Len() int { return len(t.models) }

// bedrockGeo are the cross-region inference prefixes of Bedrock model
// ids ("us.anthropic.claude-…"): the price is the base model's.
var bedrockGeo = []string{"us.", "eu.", "apac.", "global.", "jp.", "au.", "us-gov."}

// Lookup finds the price of model as served by provider (the
// litellm_params.model prefix): "provider/model" first, then the bare
// model, as LiteLLM's map keys them. Bedrock ids are also tried without
// their cross-region prefix and "anthropic." vendor part; Vertex AI
// Gemini models take the Gemini API's price and Vertex Claude ids
// ("claude-sonnet-4-5@20250929") Anthropic's; Azure deployments named
// after a model take that OpenAI model's price (set model_info.base_model
// when the deployment name differs).
func (t *Table) Lookup(provider, model string) (Price, bool) {
	if model == "" {
		return Price{}, false
	}
	try := func(k string) (Price, bool) { p, ok := t.models[k]; return p, ok }
	if provider != "" {
		if p, ok := try(provider + "/" + model); ok {
			return p, true
		}
	}
	if p, ok := try(model); ok {
		return p, true
	}
	switch provider {
	case "bedrock":
		m := model
		for _, g := range bedrockGeo {
			if strings.HasPrefix(m, g) {
				m = m[len(g):]
				break
			}
		}
		if p, ok := try(m); ok {
			return p, true
		}
		if v, ok := strings.CutPrefix(m, "anthropic."); ok {
			return try(v)
		}
	case "vertex_ai":
		if base, _, ok := strings.Cut(model, "@"); ok {
			if p, ok := try(base + "-" + model[len(base)+1:]); ok {
				return p, true
			}
			return try(base)
		}
		return try("gemini/" + model)
	}
	return Price{}, false
}
