package tracing

import "go.opentelemetry.io/otel/attribute"

// Attribute keys. The gen_ai.* names are the OpenTelemetry GenAI
// semantic conventions'; gen_ai.system is the older name of
// gen_ai.provider.name, set too for backends that still read it. The
// llmedge.* ones are llmedge's own.
const (
	GenAIOperationName      = attribute.Key("gen_ai.operation.name")
	GenAISystem             = attribute.Key("gen_ai.system")
	GenAIProviderName       = attribute.Key("gen_ai.provider.name")
	GenAIRequestModel       = attribute.Key("gen_ai.request.model")
	GenAIResponseModel      = attribute.Key("gen_ai.response.model")
	GenAIInputTokens        = attribute.Key("gen_ai.usage.input_tokens")
	GenAIOutputTokens       = attribute.Key("gen_ai.usage.output_tokens")
	GenAICacheReadTokens    = attribute.Key("gen_ai.usage.cache_read.input_tokens")
	GenAICacheWriteTokens   = attribute.Key("gen_ai.usage.cache_creation.input_tokens")
	GenAIFinishReasons      = attribute.Key("gen_ai.response.finish_reasons")
	GenAIRequestStream      = attribute.Key("gen_ai.request.stream")
	LLMEdgeModelGroup       = attribute.Key("llmedge.model_group")
	LLMEdgeDeployment       = attribute.Key("llmedge.deployment")
	LLMEdgeKeyName          = attribute.Key("llmedge.key_name")
	LLMEdgeUserID           = attribute.Key("llmedge.memory_user_id")
	LLMEdgeTimeToFirstToken = attribute.Key("llmedge.time_to_first_token_ms")
	LLMEdgeCostUSD          = attribute.Key("llmedge.cost_usd")
	LLMEdgeAttempts         = attribute.Key("llmedge.attempts")
	LLMEdgeAttempt          = attribute.Key("llmedge.attempt")
	LLMEdgeRetry            = attribute.Key("llmedge.retry")
	LLMEdgeRequestID        = attribute.Key("llmedge.request_id")
	LLMEdgeRequestBody      = attribute.Key("llmedge.request.body")
	LLMEdgeResponseBody     = attribute.Key("llmedge.response.body")
	HTTPResponseStatusCode  = attribute.Key("http.response.status_code")
	HTTPRequestMethod       = attribute.Key("http.request.method")
	HTTPRoute               = attribute.Key("http.route")
	ServerAddress           = attribute.Key("server.address")
	ErrorType               = attribute.Key("error.type")
)
