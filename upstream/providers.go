package upstream

import (
	"sort"
	"strings"
)

// wireFormat says how llmedge talks to a provider.
type wireFormat int

const (
	// wireOpenAI: OpenAI's chat API; bodies pass through byte for byte
	// with only "model" rewritten.
	wireOpenAI wireFormat = iota + 1
	// wireMock: answered in-process from mock_response.
	wireMock
	// wireAnthropic: Anthropic's Messages API; OpenAI chat requests are
	// translated (anthropic_request.go), /v1/messages passes through.
	wireAnthropic
)

// providerSpec is what llmedge knows about one provider prefix.
type providerSpec struct {
	wire wireFormat
	// defaultBase is the documented API base ("" = api_base required).
	defaultBase string
	// keyEnv is the environment variable LiteLLM reads the key from when
	// litellm_params.api_key is absent ("" = no key needed).
	keyEnv string
}

// providers maps a model prefix to its spec. OpenAI-compatible servers
// share the pass-through path; an api_base in config always wins.
var providers = map[string]providerSpec{
	"openai":                 {wireOpenAI, "https://api.openai.com/v1", "OPENAI_API_KEY"},
	"text-completion-openai": {wireOpenAI, "https://api.openai.com/v1", "OPENAI_API_KEY"},
	"openai_like":            {wireOpenAI, "", ""},
	"custom_openai":          {wireOpenAI, "", ""},
	"hosted_vllm":            {wireOpenAI, "", ""},
	"vllm":                   {wireOpenAI, "", ""},
	"lm_studio":              {wireOpenAI, "http://localhost:1234/v1", ""},
	"llamafile":              {wireOpenAI, "http://localhost:8080/v1", ""},
	"ollama":                 {wireOpenAI, "http://localhost:11434/v1", ""},
	"ollama_chat":            {wireOpenAI, "http://localhost:11434/v1", ""},
	"openrouter":             {wireOpenAI, "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"},
	"groq":                   {wireOpenAI, "https://api.groq.com/openai/v1", "GROQ_API_KEY"},
	"deepseek":               {wireOpenAI, "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"},
	"together_ai":            {wireOpenAI, "https://api.together.xyz/v1", "TOGETHERAI_API_KEY"},
	"mistral":                {wireOpenAI, "https://api.mistral.ai/v1", "MISTRAL_API_KEY"},
	"cerebras":               {wireOpenAI, "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY"},
	"xai":                    {wireOpenAI, "https://api.x.ai/v1", "XAI_API_KEY"},
	"perplexity":             {wireOpenAI, "https://api.perplexity.ai", "PERPLEXITYAI_API_KEY"},
	"fireworks_ai":           {wireOpenAI, "https://api.fireworks.ai/inference/v1", "FIREWORKS_AI_API_KEY"},
	"deepinfra":              {wireOpenAI, "https://api.deepinfra.com/v1/openai", "DEEPINFRA_API_KEY"},
	"nvidia_nim":             {wireOpenAI, "https://integrate.api.nvidia.com/v1", "NVIDIA_NIM_API_KEY"},
	"github":                 {wireOpenAI, "https://models.inference.ai.azure.com", "GITHUB_API_KEY"},
	"siliconflow":            {wireOpenAI, "https://api.siliconflow.com/v1", "SILICONFLOW_API_KEY"},
	"zhipu":                  {wireOpenAI, "https://open.bigmodel.cn/api/paas/v4", "ZHIPUAI_API_KEY"},
	"zai":                    {wireOpenAI, "https://api.z.ai/api/paas/v4", "ZAI_API_KEY"},
	"moonshot":               {wireOpenAI, "https://api.moonshot.ai/v1", "MOONSHOT_API_KEY"},
	"dashscope":              {wireOpenAI, "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "DASHSCOPE_API_KEY"},
	"volcengine":             {wireOpenAI, "https://ark.cn-beijing.volces.com/api/v3", "VOLCENGINE_API_KEY"},
	"sambanova":              {wireOpenAI, "https://api.sambanova.ai/v1", "SAMBANOVA_API_KEY"},
	"gemini":                 {wireOpenAI, "https://generativelanguage.googleapis.com/v1beta/openai", "GEMINI_API_KEY"},
	"cohere_chat":            {wireOpenAI, "https://api.cohere.ai/compatibility/v1", "COHERE_API_KEY"},
	"cohere":                 {wireOpenAI, "https://api.cohere.ai/compatibility/v1", "COHERE_API_KEY"},
	"mock":                   {wireMock, "", ""},
	"anthropic":              {wireAnthropic, "https://api.anthropic.com", "ANTHROPIC_API_KEY"},
}

// SupportedProviders lists the provider prefixes llmedge serves, sorted.
func SupportedProviders() []string {
	out := make([]string, 0, len(providers))
	for p := range providers {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// endpointURL is the URL a deployment's requests go to.
func endpointURL(wire wireFormat, base string) string {
	if wire == wireAnthropic {
		return messagesURL(base)
	}
	return chatURL(base)
}

// chatURL joins an api_base and the chat completions path the way the
// OpenAI SDK does: base + "/chat/completions", unless the base already
// ends with it.
func chatURL(base string) string {
	base = strings.TrimRight(base, "/")
	if strings.HasSuffix(base, "/chat/completions") {
		return base
	}
	return base + "/chat/completions"
}
