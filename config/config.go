// Package config owns llmedge's settings: it reads a LiteLLM-style
// config.yaml (model_list, general_settings, litellm_settings,
// router_settings, user_id_mappings, ...), resolves os.environ/VAR
// references once, validates, and hands out typed values.
//
// Every section llmedge honours is a typed struct (settings.go) filled by
// one decoder (decode.go) for numbers, booleans, durations, strings and
// lists; the keys it knows derive from those structs' tags (keys.go).
// Other packages read the structs and never parse settings themselves.
// Config checks types and ranges; what a value means to its consumer (a
// routing strategy's name, an API key's length) is checked there.
//
// It is a leaf: it imports nothing else of llmedge, opens no network
// connection and knows nothing of providers beyond the model string's
// "provider/upstream-id" shape. Provider support is decided by package
// upstream, and litellm_params reach it as Deployment.Params.
package config

import (
	"regexp"
	"time"
)

// Config is a loaded, validated config file.
type Config struct {
	// Path is the file the config was loaded from ("" when parsed from bytes).
	Path string

	// Deployments are the model_list entries in file order.
	Deployments []*Deployment `yaml:"model_list"`

	General GeneralSettings `yaml:"general_settings"`
	LiteLLM LiteLLMSettings `yaml:"litellm_settings"`
	Router  RouterSettings  `yaml:"router_settings"`

	// MasterKeyFromEnv is true when General.MasterKey came from
	// LITELLM_MASTER_KEY because the file sets no master_key.
	MasterKeyFromEnv bool

	// UserIDMappings is the user_id_mappings section (memory routing).
	UserIDMappings UserIDMappings `yaml:"user_id_mappings"`

	// Ignored lists the YAML paths of keys llmedge reads but does not act
	// on (e.g. "litellm_settings.callbacks", "general_settings.database_url"),
	// sorted, each once. main reports them at startup.
	Ignored []string
	// ignoredIn names, per ignored litellm_params key path, the
	// model_name of each deployment that sets it (params.go).
	ignoredIn map[string][]string

	// Warnings are non-fatal problems found while loading (a deployment
	// whose os.environ variable is unset, a duplicate key, ...). They never
	// contain a secret value.
	Warnings []string
}

// Deployment is one model_list entry. Its yaml tags name the keys of
// the entry itself (build.go reads them and litellm_params by hand).
type Deployment struct {
	// Index is the entry's position in model_list.
	Index int
	// ModelName is the public name clients ask for (model_name).
	ModelName string `yaml:"model_name"`
	// ID is model_info.id, or a stable generated id ("<model_name>-<index>")
	// when the file gives none.
	ID string

	// Model is litellm_params.model exactly as written, e.g. "openai/gpt-4o".
	Model string
	// Provider is the part of Model before the first "/" (or
	// litellm_params.custom_llm_provider when set), lower-cased.
	// Empty when Model has no prefix and no provider could be inferred.
	Provider string
	// UpstreamModel is the model id sent upstream (Model without the
	// provider prefix).
	UpstreamModel string

	APIBase string // litellm_params.api_base; "" means the provider's default
	APIKey  string // litellm_params.api_key; never logged
	// APIVersion is litellm_params.api_version (Azure and similar).
	APIVersion string
	// ExtraHeaders are litellm_params.extra_headers, in file order, then
	// OpenAI-Organization from litellm_params.organization.
	ExtraHeaders []Header
	// Defaults are the request parameters litellm_params sets
	// (temperature, max_tokens, ..., extra_body's members), sorted by
	// key: each is added to a request body that lacks it (defaults.go).
	Defaults []BodyDefault
	// AnthropicDefaults are the Defaults an Anthropic Messages body has
	// too, for a Claude client's request passed through to an Anthropic
	// deployment (an OpenAI-only parameter there, seed or stop, is a
	// 400); a token count gets none.
	AnthropicDefaults []BodyDefault

	// Timeout bounds a whole non-stream call (litellm_params.timeout,
	// else litellm_settings.request_timeout, else 0 = the upstream
	// package's default).
	Timeout time.Duration
	// StreamTimeout bounds the wait for the first byte and every gap
	// between stream events (litellm_params.stream_timeout; 0 = default).
	StreamTimeout time.Duration
	// MaxRetries is litellm_params.max_retries; nil when unset.
	MaxRetries *int
	// RPM and TPM are the deployment's limits (0 = unlimited).
	// Both are read from litellm_params, else from the entry itself as
	// LiteLLM's router does.
	RPM int `yaml:"rpm"`
	TPM int `yaml:"tpm"`
	// MaxParallel is litellm_params.max_parallel_requests: calls in
	// flight on this deployment at once, streams until their end
	// (0 = router_settings.default_max_parallel_requests, else none).
	MaxParallel int
	// Weight is litellm_params.weight for simple-shuffle (0 = unset).
	Weight float64
	// ConnectionPool is litellm_params.connection_pool: this
	// deployment's own pool settings, its keys winning over
	// router_settings' (nil = none).
	ConnectionPool *ConnectionPool
	// Egress is this deployment's own egress keys from litellm_params
	// (forward proxy, ssl_verify, client certificate; nil = none): each
	// wins over litellm_settings' (egress.go).
	Egress *Egress

	// MockResponse is litellm_params.mock_response; HasMockResponse tells
	// an explicit empty string from absence.
	MockResponse    string
	HasMockResponse bool

	// Params holds every litellm_params key after os.environ resolution,
	// including the ones above, for provider-specific settings
	// (thinking, vertex_project, aws_region_name, ...).
	Params map[string]any `yaml:"litellm_params"`
	// ModelInfo holds model_info after resolution (mode,
	// input_cost_per_token, ...).
	ModelInfo map[string]any `yaml:"model_info"`
	// Health is the health-probe settings of model_info
	// (healthcheck.go).
	Health HealthCheck

	// MissingEnv names the os.environ/ variables this entry references
	// that are unset. A deployment with MissingEnv is loaded but
	// unavailable: requests for it get 503 naming the variable.
	MissingEnv []string
	// Invalid lists the problems of an entry whose settings are invalid
	// (an extra_headers name, a timeout, ...), each naming its key. Such
	// a deployment is loaded but unavailable (503 naming the problem)
	// so that the others are served; Options.Strict makes it an error.
	Invalid []string
}

// Header is one name/value pair, kept in file order.
type Header struct {
	Name  string
	Value string
}

// UserIDMappings is the user_id_mappings section.
type UserIDMappings struct {
	// CustomHeader is the header whose value is used as the user id when
	// present. Default "x-memory-user-id".
	CustomHeader string `yaml:"custom_header"`
	// HeaderPatterns are tried in order after the custom header.
	HeaderPatterns []HeaderPattern `yaml:"header_patterns"`
	// DefaultUserID is used when nothing matched. Default "default-dev".
	DefaultUserID string `yaml:"default_user_id"`
	// Configured is true when the file has a user_id_mappings section:
	// only then does x-sm-user-id go to every upstream.
	Configured bool
}

// HeaderPattern maps a regex match on a header to a user id.
type HeaderPattern struct {
	Header  string `yaml:"header"`  // lower-cased header name
	Pattern string `yaml:"pattern"` // as written in the file
	UserID  string `yaml:"user_id"`
	// Regexp is Pattern compiled with "(?i)" prepended: case-insensitive
	// and unanchored (use ^...$ in the pattern to anchor).
	Regexp *regexp.Regexp
}
