package upstream

import (
	"sort"

	"github.com/llmedge/llmedge/config"
)

// provider is everything llmedge knows about one provider prefix of
// litellm_params.model. Each provider declares it in its own files
// (openai.go for the OpenAI-compatible servers, anthropic_*.go,
// azure.go, bedrock*.go, cloudflare.go, vertex*.go, mock*.go) and
// providerTable lists them.
type provider struct {
	// routes are the routes the provider's API serves, before
	// model_info.mode narrows them (routes.go).
	routes routeSet
	// openAICompatible: a generic OpenAI-compatible server, whose
	// operator knows what it serves: an explicit model_info.mode adds
	// its own route even where routes lacks it.
	openAICompatible bool
	// anthropicMessages: the provider speaks Anthropic's Messages API,
	// so native /v1/messages calls are passed through; other providers
	// get them translated to chat (messages_chat.go).
	anthropicMessages bool
	// anthropicOptions: litellm_params thinking and max_tokens apply
	// (the OpenAI to Anthropic translation reads them).
	anthropicOptions bool
	// build sets up a deployment's endpoint and credentials from
	// litellm_params, after the fields common to every provider (nil:
	// nothing to set up, as for mock/). It may swap d.provider for a
	// variant (vertex_ai's Claude models).
	build func(r *Registry, d *Deployment, b *buildEnv) *config.Error
	// attempt runs one attempt on a deployment: it sends the request
	// and leaves either a complete answer in out or a stream started
	// with its first event read, its translator handed to the relay
	// driver (relay.go).
	attempt func(reg *Registry, d *Deployment, g *Group, req *ChatRequest, out *Response) *Error
}

// buildEnv is what a provider's build reads besides the deployment.
type buildEnv struct {
	cfg *config.Config
	// path is the YAML path of the entry's litellm_params, for errors.
	path   string
	lookup func(string) (string, bool)
}

// env returns the first of the environment variables names that is set
// and not empty.
func (b *buildEnv) env(names ...string) string {
	for _, n := range names {
		if v, ok := b.lookup(n); ok && v != "" {
			return v
		}
	}
	return ""
}

// providerTable lists every provider llmedge serves, by prefix. The
// OpenAI-compatible servers differ only in their documented base URL,
// the variable LiteLLM reads their key from and the routes their API
// has; an api_base in config always wins.
var providerTable = map[string]*provider{
	"openai":                 openAICompatible(routesAll, "https://api.openai.com/v1", "OPENAI_API_KEY"),
	"text-completion-openai": openAICompatible(routesAll, "https://api.openai.com/v1", "OPENAI_API_KEY"),
	// Self-hosted servers: the operator knows what theirs serves; an
	// unsupported path is the server's own 404.
	"openai_like":   openAICompatible(routesAll, "", ""),
	"custom_openai": openAICompatible(routesAll, "", ""),
	"hosted_vllm":   openAICompatible(routesAll, "", ""),
	"vllm":          openAICompatible(routesAll, "", ""),
	"lm_studio":     openAICompatible(routesAll, "http://localhost:1234/v1", ""),
	"llamafile":     openAICompatible(routesOpenAICompatible, "http://localhost:8080/v1", ""),
	"ollama":        openAICompatible(routesAll, "http://localhost:11434/v1", ""),
	"ollama_chat":   openAICompatible(routesAll, "http://localhost:11434/v1", ""),
	"openrouter":    openAICompatible(routesAll, "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
	// Hosted APIs, with the routes each one has.
	"groq":         openAICompatible(routesOf(RouteChat, RouteResponses), "https://api.groq.com/openai/v1", "GROQ_API_KEY"),
	"deepseek":     openAICompatible(routesChatOnly, "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
	"together_ai":  openAICompatible(routesOpenAICompatible, "https://api.together.xyz/v1", "TOGETHERAI_API_KEY"),
	"mistral":      openAICompatible(routesOf(RouteChat, RouteEmbeddings), "https://api.mistral.ai/v1", "MISTRAL_API_KEY"),
	"cerebras":     openAICompatible(routesOf(RouteChat, RouteCompletions), "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY"),
	"xai":          openAICompatible(routesOf(RouteChat, RouteResponses), "https://api.x.ai/v1", "XAI_API_KEY"),
	"perplexity":   openAICompatible(routesChatOnly, "https://api.perplexity.ai", "PERPLEXITYAI_API_KEY"),
	"fireworks_ai": openAICompatible(routesOpenAICompatible, "https://api.fireworks.ai/inference/v1", "FIREWORKS_AI_API_KEY"),
	"deepinfra":    openAICompatible(routesOpenAICompatible, "https://api.deepinfra.com/v1/openai", "DEEPINFRA_API_KEY"),
	"nvidia_nim":   openAICompatible(routesOpenAICompatible, "https://integrate.api.nvidia.com/v1", "NVIDIA_NIM_API_KEY"),
	"github":       openAICompatible(routesOpenAICompatible, "https://models.inference.ai.azure.com", "GITHUB_API_KEY"),
	"siliconflow":  openAICompatible(routesOpenAICompatible, "https://api.siliconflow.com/v1", "SILICONFLOW_API_KEY"),
	"zhipu":        openAICompatible(routesOpenAICompatible, "https://open.bigmodel.cn/api/paas/v4", "ZHIPUAI_API_KEY"),
	"zai":          openAICompatible(routesOpenAICompatible, "https://api.z.ai/api/paas/v4", "ZAI_API_KEY"),
	"moonshot":     openAICompatible(routesChatOnly, "https://api.moonshot.ai/v1", "MOONSHOT_API_KEY"),
	"dashscope":    openAICompatible(routesOpenAICompatible, "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "DASHSCOPE_API_KEY"),
	"volcengine":   openAICompatible(routesOpenAICompatible, "https://ark.cn-beijing.volces.com/api/v3", "VOLCENGINE_API_KEY"),
	"sambanova":    openAICompatible(routesOpenAICompatible, "https://api.sambanova.ai/v1", "SAMBANOVA_API_KEY"),
	"gemini":       openAICompatible(routesOf(RouteChat, RouteEmbeddings), "https://generativelanguage.googleapis.com/v1beta/openai", "GEMINI_API_KEY"),
	"cohere_chat":  openAICompatible(routesOf(RouteChat, RouteEmbeddings), "https://api.cohere.ai/compatibility/v1", "COHERE_API_KEY"),
	"cohere":       openAICompatible(routesOf(RouteChat, RouteEmbeddings), "https://api.cohere.ai/compatibility/v1", "COHERE_API_KEY"),

	"mock":           &mockProvider,
	"anthropic":      &anthropicProvider,
	"azure":          &azureProvider,
	"cloudflare":     &cloudflareProvider,
	"vertex_ai":      &vertexProvider,
	"vertex_ai_beta": &vertexProvider,
	"bedrock":        &bedrockProvider,
}

// SupportedProviders lists the provider prefixes llmedge serves, sorted.
func SupportedProviders() []string {
	out := make([]string, 0, len(providerTable))
	for p := range providerTable {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
