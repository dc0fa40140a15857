package config

import (
	"encoding/json"
	"slices"
	"strings"
)

// Request defaults: LiteLLM merges a deployment's OpenAI request
// parameters from litellm_params (temperature, max_tokens, seed, ...,
// and the members of extra_body) into every request it sends that
// deployment, the client's own value winning. The loader encodes them
// once (Deployment.Defaults); package upstream splices the absent ones
// into the body without decoding it. organization becomes the
// OpenAI-Organization header.

// requestDefaultKeys are the litellm_params keys that are request
// parameters. thinking is not here: the Anthropic and Bedrock
// translators read it from litellm_params themselves.
var requestDefaultKeys = []string{
	"audio", "frequency_penalty", "logit_bias", "logprobs", "max_completion_tokens", "max_tokens",
	"metadata", "modalities", "n", "parallel_tool_calls", "prediction", "presence_penalty",
	"reasoning_effort", "response_format", "seed", "service_tier", "stop", "store",
	"temperature", "tool_choice", "tools", "top_logprobs", "top_p", "user", "verbosity",
	"web_search_options",
}

// anthropicDefaultKeys are the request defaults that are Anthropic
// Messages parameters of the same name and meaning.
var anthropicDefaultKeys = []string{"max_tokens", "temperature", "top_k", "top_p"}

// BodyDefault is one request parameter a deployment sets: its key and
// its value as JSON.
type BodyDefault struct {
	Key   string
	Value []byte
	// Alias is the other name of the same parameter: a body that has
	// it gets no default either (max_tokens and max_completion_tokens,
	// which OpenAI refuses together; a Claude client's required
	// max_tokens reaches an OpenAI deployment as max_completion_tokens).
	Alias string
}

// requestDefaults collects d's request defaults from litellm_params,
// sorted by key (extra_body's members after litellm_params' own keys of
// the same name are skipped: the named parameter wins).
func (b *builder) requestDefaults(d *Deployment, lpPath string) {
	add := func(k string, v any, path string) {
		if slices.ContainsFunc(d.Defaults, func(x BodyDefault) bool { return x.Key == k }) {
			return
		}
		js, err := json.Marshal(v)
		if err != nil {
			b.errs = append(b.errs, &Error{Path: path, Msg: "cannot be sent as JSON: " + err.Error()})
			return
		}
		d.Defaults = append(d.Defaults, BodyDefault{Key: k, Value: js})
	}
	for _, k := range requestDefaultKeys {
		if v, ok := d.Params[k]; ok && v != nil {
			add(k, v, lpPath+"."+k)
		}
	}
	if eb, ok := d.Params["extra_body"]; ok && eb != nil {
		m, isMap := eb.(map[string]any)
		if !isMap {
			b.errs = append(b.errs, &Error{Path: lpPath + ".extra_body", Msg: "want a mapping of request parameters"})
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if k != "model" && k != "stream" && m[k] != nil {
				add(k, m[k], lpPath+".extra_body."+k)
			}
		}
	}
	slices.SortFunc(d.Defaults, func(a, b BodyDefault) int { return strings.Compare(a.Key, b.Key) })
	for _, def := range d.Defaults {
		if slices.Contains(anthropicDefaultKeys, def.Key) {
			d.AnthropicDefaults = append(d.AnthropicDefaults, def)
		}
	}
	for i := range d.Defaults {
		switch d.Defaults[i].Key {
		case "max_tokens":
			d.Defaults[i].Alias = "max_completion_tokens"
		case "max_completion_tokens":
			d.Defaults[i].Alias = "max_tokens"
		}
	}
	if org, ok := d.Params["organization"].(string); ok && strings.TrimSpace(org) != "" {
		if !slices.ContainsFunc(d.ExtraHeaders, func(h Header) bool { return strings.EqualFold(h.Name, "OpenAI-Organization") }) {
			d.ExtraHeaders = append(d.ExtraHeaders, Header{Name: "OpenAI-Organization", Value: strings.TrimSpace(org)})
		}
	}
}
