package upstream

import (
	"sort"

	"github.com/llmedge/llmedge/upstream/provider"
)

// providerTable lists every provider llmedge serves, by prefix. The
// OpenAI-compatible servers differ only in their documented base URL,
// the variable LiteLLM reads their key from and the routes their API
// has; an api_base in config always wins.
var providerTable = map[string]*provider.Descriptor{
	"openai":                 openAICompatible(provider.RoutesAll, "https://api.openai.com/v1", "OPENAI_API_KEY"),
	"text-completion-openai": openAICompatible(provider.RoutesAll, "https://api.openai.com/v1", "OPENAI_API_KEY"),
	// Self-hosted servers: the operator knows what theirs serves; an
	// unsupported path is the server's own 404.
	"openai_like":   openAICompatible(provider.RoutesAll, "", ""),
	"custom_openai": openAICompatible(provider.RoutesAll, "", ""),
	"hosted_vllm":   openAICompatible(provider.RoutesAll, "", ""),
	"vllm":          openAICompatible(provider.RoutesAll, "", ""),
	"lm_studio":     openAICompatible(provider.RoutesAll, "http://localhost:1234/v1", ""),
	"llamafile":     openAICompatible(provider.RoutesOpenAICompatible, "http://localhost:8080/v1", ""),
	"ollama":        openAICompatible(provider.RoutesAll, "http://localhost:11434/v1", ""),
	"ollama_chat":   openAICompatible(provider.RoutesAll, "http://localhost:11434/v1", ""),
	"openrouter":    openAICompatible(provider.RoutesAll, "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
	// Hosted APIs, with the routes each one has.
	"groq":         openAICompatible(provider.RoutesOf(RouteChat, RouteResponses), "https://api.groq.com/openai/v1", "GROQ_API_KEY"),
	"deepseek":     openAICompatible(provider.RoutesChatOnly, "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
	"together_ai":  openAICompatible(provider.RoutesOpenAICompatible, "https://api.together.xyz/v1", "TOGETHERAI_API_KEY"),
	"mistral":      openAICompatible(provider.RoutesOf(RouteChat, RouteEmbeddings), "https://api.mistral.ai/v1", "MISTRAL_API_KEY"),
	"cerebras":     openAICompatible(provider.RoutesOf(RouteChat, RouteCompletions), "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY"),
	"xai":          openAICompatible(provider.RoutesOf(RouteChat, RouteResponses), "https://api.x.ai/v1", "XAI_API_KEY"),
	"perplexity":   openAICompatible(provider.RoutesChatOnly, "https://api.perplexity.ai", "PERPLEXITYAI_API_KEY"),
	"fireworks_ai": openAICompatible(provider.RoutesOpenAICompatible, "https://api.fireworks.ai/inference/v1", "FIREWORKS_AI_API_KEY"),
	"deepinfra":    openAICompatible(provider.RoutesOpenAICompatible, "https://api.deepinfra.com/v1/openai", "DEEPINFRA_API_KEY"),
	"nvidia_nim":   openAICompatible(provider.RoutesOpenAICompatible, "https://integrate.api.nvidia.com/v1", "NVIDIA_NIM_API_KEY"),
	"github":       openAICompatible(provider.RoutesOpenAICompatible, "https://models.inference.ai.azure.com", "GITHUB_API_KEY"),
	"siliconflow":  openAICompatible(provider.RoutesOpenAICompatible, "https://api.siliconflow.com/v1", "SILICONFLOW_API_KEY"),
	"zhipu":        openAICompatible(provider.RoutesOpenAICompatible, "https://open.bigmodel.cn/api/paas/v4", "ZHIPUAI_API_KEY"),
	"zai":          openAICompatible(provider.RoutesOpenAICompatible, "https://api.z.ai/api/paas/v4", "ZAI_API_KEY"),
	"moonshot":     openAICompatible(provider.RoutesChatOnly, "https://api.moonshot.ai/v1", "MOONSHOT_API_KEY"),
	"dashscope":    openAICompatible(provider.RoutesOpenAICompatible, "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "DASHSCOPE_API_KEY"),
	"volcengine":   openAICompatible(provider.RoutesOpenAICompatible, "https://ark.cn-beijing.volces.com/api/v3", "VOLCENGINE_API_KEY"),
	"sambanova":    openAICompatible(provider.RoutesOpenAICompatible, "https://api.sambanova.ai/v1", "SAMBANOVA_API_KEY"),
	"gemini":       openAICompatible(provider.RoutesOf(RouteChat, RouteEmbeddings), "https://generativelanguage.googleapis.com/v1beta/openai", "GEMINI_API_KEY"),
	"cohere_chat":  openAICompatible(provider.RoutesOf(RouteChat, RouteEmbeddings), "https://api.cohere.ai/compatibility/v1", "COHERE_API_KEY"),
	"cohere":       openAICompatible(provider.RoutesOf(RouteChat, RouteEmbeddings), "https://api.cohere.ai/compatibility/v1", "COHERE_API_KEY"),

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
