package upstream

import (
	"sort"

	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/provider/anthropic"
	"github.com/llmedge/llmedge/upstream/provider/azure"
	"github.com/llmedge/llmedge/upstream/provider/bedrock"
	"github.com/llmedge/llmedge/upstream/provider/cloudflare"
	"github.com/llmedge/llmedge/upstream/provider/mock"
	"github.com/llmedge/llmedge/upstream/provider/openai"
	"github.com/llmedge/llmedge/upstream/provider/vertex"
)

// providerTable lists every provider llmedge serves, by prefix: the one
// table of providers. A provider is a package under upstream/provider
// exporting its Descriptor; adding one is that package and one line here. The
// OpenAI-compatible servers differ only in their documented base URL,
// the variable LiteLLM reads their key from and the routes their API
// has; an api_base in config always wins.
var providerTable = map[string]*provider.Descriptor{
	"openai":                 openai.Compatible(provider.RoutesAll, "https://api.openai.com/v1", "OPENAI_API_KEY"),
	"text-completion-openai": openai.Compatible(provider.RoutesAll, "https://api.openai.com/v1", "OPENAI_API_KEY"),
	// Self-hosted servers: the operator knows what theirs serves; an
	// unsupported path is the server's own 404.
	"openai_like":   openai.Compatible(provider.RoutesAll, "", ""),
	"custom_openai": openai.Compatible(provider.RoutesAll, "", ""),
	"hosted_vllm":   openai.Compatible(provider.RoutesAll, "", ""),
	"vllm":          openai.Compatible(provider.RoutesAll, "", ""),
	"lm_studio":     openai.Compatible(provider.RoutesAll, "http://localhost:1234/v1", ""),
	"llamafile":     openai.Compatible(provider.RoutesOpenAICompatible, "http://localhost:8080/v1", ""),
	"ollama":        openai.Compatible(provider.RoutesAll, "http://localhost:11434/v1", ""),
	"ollama_chat":   openai.Compatible(provider.RoutesAll, "http://localhost:11434/v1", ""),
	"openrouter":    openai.CallProbe(openai.Compatible(provider.RoutesAll, "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY")),
	// Hosted APIs, with the routes each one has.
	"groq":         openai.Compatible(provider.RoutesOf(provider.RouteChat, provider.RouteResponses), "https://api.groq.com/openai/v1", "GROQ_API_KEY"),
	"deepseek":     openai.Compatible(provider.RoutesChatOnly, "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
	"together_ai":  openai.Compatible(provider.RoutesOpenAICompatible, "https://api.together.xyz/v1", "TOGETHERAI_API_KEY"),
	"mistral":      openai.Compatible(provider.RoutesOf(provider.RouteChat, provider.RouteEmbeddings), "https://api.mistral.ai/v1", "MISTRAL_API_KEY"),
	"cerebras":     openai.Compatible(provider.RoutesOf(provider.RouteChat, provider.RouteCompletions), "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY"),
	"xai":          openai.Compatible(provider.RoutesOf(provider.RouteChat, provider.RouteResponses), "https://api.x.ai/v1", "XAI_API_KEY"),
	"perplexity":   openai.CallProbe(openai.Compatible(provider.RoutesChatOnly, "https://api.perplexity.ai", "PERPLEXITYAI_API_KEY")),
	"fireworks_ai": openai.CallProbe(openai.Compatible(provider.RoutesOpenAICompatible, "https://api.fireworks.ai/inference/v1", "FIREWORKS_AI_API_KEY")),
	"deepinfra":    openai.Compatible(provider.RoutesOpenAICompatible, "https://api.deepinfra.com/v1/openai", "DEEPINFRA_API_KEY"),
	"nvidia_nim":   openai.CallProbe(openai.Compatible(provider.RoutesOpenAICompatible, "https://integrate.api.nvidia.com/v1", "NVIDIA_NIM_API_KEY")),
	"github":       openai.CallProbe(openai.Compatible(provider.RoutesOpenAICompatible, "https://models.inference.ai.azure.com", "GITHUB_API_KEY")),
	"siliconflow":  openai.Compatible(provider.RoutesOpenAICompatible, "https://api.siliconflow.com/v1", "SILICONFLOW_API_KEY"),
	"zhipu":        openai.CallProbe(openai.Compatible(provider.RoutesOpenAICompatible, "https://open.bigmodel.cn/api/paas/v4", "ZHIPUAI_API_KEY")),
	"zai":          openai.CallProbe(openai.Compatible(provider.RoutesOpenAICompatible, "https://api.z.ai/api/paas/v4", "ZAI_API_KEY")),
	"moonshot":     openai.Compatible(provider.RoutesChatOnly, "https://api.moonshot.ai/v1", "MOONSHOT_API_KEY"),
	"dashscope":    openai.CallProbe(openai.Compatible(provider.RoutesOpenAICompatible, "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "DASHSCOPE_API_KEY")),
	"volcengine":   openai.CallProbe(openai.Compatible(provider.RoutesOpenAICompatible, "https://ark.cn-beijing.volces.com/api/v3", "VOLCENGINE_API_KEY")),
	"sambanova":    openai.Compatible(provider.RoutesOpenAICompatible, "https://api.sambanova.ai/v1", "SAMBANOVA_API_KEY"),
	"gemini":       openai.Compatible(provider.RoutesOf(provider.RouteChat, provider.RouteEmbeddings), "https://generativelanguage.googleapis.com/v1beta/openai", "GEMINI_API_KEY"),
	"cohere_chat":  openai.CallProbe(openai.Compatible(provider.RoutesOf(provider.RouteChat, provider.RouteEmbeddings), "https://api.cohere.ai/compatibility/v1", "COHERE_API_KEY")),
	"cohere":       openai.CallProbe(openai.Compatible(provider.RoutesOf(provider.RouteChat, provider.RouteEmbeddings), "https://api.cohere.ai/compatibility/v1", "COHERE_API_KEY")),

	"mock":           &mock.Provider,
	"anthropic":      &anthropic.Provider,
	"azure":          &azure.Provider,
	"cloudflare":     &cloudflare.Provider,
	"vertex_ai":      &vertex.Provider,
	"vertex_ai_beta": &vertex.Provider,
	"bedrock":        &bedrock.Provider,
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
