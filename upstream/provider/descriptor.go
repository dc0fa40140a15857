package provider

import "github.com/llmedge/llmedge/config"

// Descriptor is everything llmedge knows about one provider prefix of
// litellm_params.model. Each provider declares its own in its package
// (upstream/provider/openai for the OpenAI-compatible servers,
// .../anthropic, .../azure, .../bedrock, .../cloudflare, .../vertex,
// .../mock) and upstream's provider table lists them.
type Descriptor struct {
	// Routes are the routes the provider's API serves, before
	// model_info.mode narrows them (upstream/routes.go).
	Routes Routes
	// OpenAICompatible: a generic OpenAI-compatible server, whose
	// operator knows what it serves: an explicit model_info.mode adds
	// its own route even where Routes lacks it.
	OpenAICompatible bool
	// AnthropicMessages: the provider speaks Anthropic's Messages API,
	// so native /v1/messages calls are passed through; other providers
	// get them translated to chat (upstream/messages_chat.go).
	AnthropicMessages bool
	// AnthropicOptions: litellm_params thinking and max_tokens apply
	// (the OpenAI to Anthropic translation reads them).
	AnthropicOptions bool
	// Build sets up a deployment's endpoint and credentials from
	// litellm_params, after the fields common to every provider (nil:
	// nothing to set up, as for mock/). It may swap b.Provider for a
	// variant (vertex_ai's Claude models).
	Build func(d *Endpoint, b *BuildEnv) *config.Error
	// Attempt runs one attempt on a deployment: it sends the request
	// and leaves either a complete answer in out or a stream started
	// with its first event read, its translator handed to the relay
	// driver (relay.go). model is the requested model as the
	// deployment's wildcard sees it (what a pattern group's '*' matched).
	Attempt func(d *Endpoint, req *Request, model []byte, out *Answer) *Error
	// Probe, when set, is the health probe cheaper than a 1-token call
	// (probe.go): a GET of the provider's models.
	Probe Probe
}
