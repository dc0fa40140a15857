package config

import (
	"regexp"
	"strings"
)

// splitModel derives the provider and the upstream model id from
// litellm_params.model and custom_llm_provider, the way LiteLLM does:
// custom_llm_provider wins; else the part before the first "/"; else the
// provider is inferred from a bare model name ("" when unknown, so that
// package upstream can report it).
func splitModel(model, customProvider string) (provider, upstream string) {
	if p := strings.ToLower(strings.TrimSpace(customProvider)); p != "" {
		if len(model) > len(p) && strings.EqualFold(model[:len(p)+1], p+"/") {
			return p, model[len(p)+1:]
		}
		return p, model
	}
	if i := strings.IndexByte(model, '/'); i > 0 {
		return strings.ToLower(model[:i]), model[i+1:]
	}
	return inferProvider(model), model
}

// bedrockModelID matches Bedrock model ids used without the "bedrock/"
// prefix ("anthropic.claude-3-5-sonnet-…-v1:0", cross-region inference
// profiles "us.anthropic.claude-…", "eu.meta.llama…").
var bedrockModelID = regexp.MustCompile(`^((us|eu|apac|us-gov|global|jp|au|ca)\.)?(anthropic|amazon|meta|mistral|cohere|ai21|deepseek|qwen|writer|stability|twelvelabs|openai|luma)\.`)

// bareModelPrefixes maps bare model-name prefixes to LiteLLM providers.
// Order matters only where prefixes overlap (none do today).
var bareModelPrefixes = []struct {
	prefix, provider string
}{
	{"gpt-", "openai"},
	{"o1", "openai"},
	{"o3", "openai"},
	{"o4", "openai"},
	{"chatgpt-", "openai"},
	{"ft:gpt-", "openai"},
	{"text-embedding-", "openai"},
	{"text-moderation-", "openai"},
	{"omni-moderation-", "openai"},
	{"dall-e", "openai"},
	{"whisper", "openai"},
	{"tts", "openai"},
	{"davinci", "openai"},
	{"babbage", "openai"},
	{"claude-", "anthropic"},
	{"gemini-", "gemini"},
	{"command", "cohere"},
	{"mistral-", "mistral"},
	{"mixtral-", "mistral"},
	{"codestral", "mistral"},
	{"open-mistral-", "mistral"},
	{"open-mixtral-", "mistral"},
}

func inferProvider(model string) string {
	m := strings.ToLower(strings.TrimSpace(model))
	if m == "" {
		return ""
	}
	if bedrockModelID.MatchString(m) {
		return "bedrock"
	}
	for _, p := range bareModelPrefixes {
		if strings.HasPrefix(m, p.prefix) {
			return p.provider
		}
	}
	return ""
}

// SplitModel is how LiteLLM reads a requested model name when a "*"
// catch-all deployment serves it: "provider/model", or a bare name whose
// provider is inferred ("gpt-4o" → openai); provider "" when unknown.
func SplitModel(model string) (provider, upstream string) { return splitModel(model, "") }

// IsCatchAll reports whether d is LiteLLM's catch-all deployment
// (litellm_params.model "*" without a provider): the provider of each
// request is inferred from the model it asks for.
func (d *Deployment) IsCatchAll() bool { return d.Model == "*" && d.Provider == "" }
