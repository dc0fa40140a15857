package upstream

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

// defaultAnthropicMaxTokens is sent when neither the client nor
// litellm_params set max_tokens (Anthropic requires it; LiteLLM uses
// the same default).
const defaultAnthropicMaxTokens = 4096

// deploymentExtras are provider-specific settings resolved at startup.
type deploymentExtras struct {
	// dropParams drops OpenAI parameters the provider lacks instead of
	// answering 400 (litellm_settings.drop_params or
	// litellm_params.drop_params).
	dropParams bool
	// thinking is litellm_params.thinking as JSON (nil = unset).
	thinking []byte
	// maxTokens is litellm_params.max_tokens (0 = default).
	maxTokens int
	// countTokensURI is the anthropic count_tokens endpoint.
	countTokensURI string
	// supermemory is true when api_base is supermemory's proxy.
	supermemory bool
}

// buildExtras resolves the settings beyond the common ones: supermemory
// keys for any provider, Anthropic's options.
func (r *Registry) buildExtras(d *Deployment, cfg *config.Config, path, host string, lookup func(string) (string, bool)) *config.Error {
	cd := d.Config
	d.ext.dropParams = cfg.LiteLLM.DropParams
	if v, ok := cd.Params["drop_params"].(bool); ok {
		d.ext.dropParams = v
	}
	if strings.EqualFold(hostOnly(host), SupermemoryHost) {
		d.ext.supermemory = true
		if !hasHeader(d.headers, "x-supermemory-api-key") {
			if v, ok := lookup(supermemoryKeyEnv); ok && v != "" {
				d.headers = append(append([]config.Header(nil), d.headers...), config.Header{Name: "x-supermemory-api-key", Value: v})
			} else {
				r.warnings = append(r.warnings, fmt.Sprintf("deployment %s (model_name %q): api_base is supermemory but neither extra_headers.x-supermemory-api-key nor %s is set; supermemory will reject its requests", d.ID, d.ModelName, supermemoryKeyEnv))
			}
		}
	}
	if !d.provider.anthropicOptions {
		return nil
	}
	d.ext.countTokensURI = d.uri + "/count_tokens"
	if t, ok := cd.Params["thinking"]; ok && t != nil {
		b, err := sonic.Marshal(t)
		if err != nil || len(b) == 0 || b[0] != '{' {
			return &config.Error{Path: path + ".thinking", Msg: "must be a mapping like {type: enabled, budget_tokens: 1024}"}
		}
		d.ext.thinking = b
	}
	switch v := cd.Params["max_tokens"].(type) {
	case int:
		d.ext.maxTokens = v
	case int64:
		d.ext.maxTokens = int(v)
	case uint64:
		d.ext.maxTokens = int(v)
	case float64:
		d.ext.maxTokens = int(v)
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

// messagesURL joins an api_base and Anthropic's messages path. Bases are
// written both without a version (https://api.anthropic.com, supermemory's
// https://api.supermemory.ai/v3/api.anthropic.com) and, by LiteLLM users,
// with a trailing /v1; both give .../v1/messages.
func messagesURL(base string) string {
	base = strings.TrimRight(base, "/")
	switch {
	case strings.HasSuffix(base, "/v1/messages"):
		return base
	case strings.HasSuffix(base, "/v1"):
		return base + "/messages"
	}
	return base + "/v1/messages"
}
