package provider

import (
	"fmt"
	"strings"

	"github.com/bytedance/sonic"
	"github.com/llmedge/llmedge/config"
)

// SupermemoryHost is the host of supermemory's memory proxy. Deployments
// whose api_base points at it need x-supermemory-api-key.
const SupermemoryHost = "api.supermemory.ai"

// supermemoryKeyEnv is read when extra_headers lack the key.
const supermemoryKeyEnv = "SUPERMEMORY_API_KEY"

// DefaultAnthropicMaxTokens is sent when neither the client nor
// litellm_params set max_tokens (Anthropic requires it; LiteLLM uses
// the same default).
const DefaultAnthropicMaxTokens = 4096

// Options are the litellm_params beyond the endpoint, resolved at
// startup.
type Options struct {
	// DropParams drops OpenAI parameters the provider lacks instead of
	// answering 400 (litellm_settings.drop_params or
	// litellm_params.drop_params).
	DropParams bool
	// Thinking is litellm_params.thinking as JSON (nil = unset).
	Thinking []byte
	// MaxTokens is litellm_params.max_tokens (0 = default).
	MaxTokens int
	// CountTokensURI is the count_tokens endpoint of a host of
	// Anthropic's Messages API (Anthropic's, or Vertex AI's).
	CountTokensURI string
	// Supermemory is true when api_base is supermemory's proxy.
	Supermemory bool
}

// BuildOptions resolves the settings beyond the endpoint: drop_params,
// supermemory keys for any provider, Anthropic's options (thinking,
// max_tokens) for a provider whose descriptor takes them.
func (b *BuildEnv) BuildOptions(d *Endpoint, p *Descriptor) *config.Error {
	cfg, path, host, lookup := b.Cfg, b.Path, d.Host, b.Lookup
	cd := d.Config
	d.Options.DropParams = cfg.LiteLLM.DropParams
	if v, ok := cd.Params["drop_params"].(bool); ok {
		d.Options.DropParams = v
	}
	if strings.EqualFold(hostOnly(host), SupermemoryHost) {
		d.Options.Supermemory = true
		if !hasHeader(d.Headers, "x-supermemory-api-key") {
			if v, ok := lookup(supermemoryKeyEnv); ok && v != "" {
				d.Headers = append(append([]config.Header(nil), d.Headers...), config.Header{Name: "x-supermemory-api-key", Value: v})
			} else {
				b.Warn(fmt.Sprintf("deployment %s (model_name %q): api_base is supermemory but neither extra_headers.x-supermemory-api-key nor %s is set; supermemory will reject its requests", d.ID, d.ModelName, supermemoryKeyEnv))
			}
		}
	}
	if !p.AnthropicOptions {
		return nil
	}
	if d.Options.CountTokensURI == "" {
		// Anthropic's own; other hosts set theirs in Build (vertex).
		d.Options.CountTokensURI = d.URI + "/count_tokens"
	}
	if t, ok := cd.Params["thinking"]; ok && t != nil {
		b, err := sonic.Marshal(t)
		if err != nil || len(b) == 0 || b[0] != '{' {
			return &config.Error{Path: path + ".thinking", Msg: "must be a mapping like {type: enabled, budget_tokens: 1024}"}
		}
		d.Options.Thinking = b
	}
	switch v := cd.Params["max_tokens"].(type) {
	case int:
		d.Options.MaxTokens = v
	case int64:
		d.Options.MaxTokens = int(v)
	case uint64:
		d.Options.MaxTokens = int(v)
	case float64:
		d.Options.MaxTokens = int(v)
	}
	return nil
}

func hostOnly(hostport string) string {
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.Contains(hostport[i:], "]") {
		return hostport[:i]
	}
	return hostport
}

func hasHeader(hs []config.Header, name string) bool {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return true
		}
	}
	return false
}
