// Package config owns llmedge's settings: it reads a LiteLLM-style
// config.yaml (model_list, general_settings, litellm_settings,
// router_settings, user_id_mappings, ...), resolves os.environ/VAR
// references once, validates, and hands out typed values.
//
// It is a leaf: it imports nothing else of llmedge, opens no network
// connection and knows nothing of providers beyond the model string's
// "provider/upstream-id" shape. Provider support is decided by package
// upstream.
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
	Deployments []*Deployment

	General GeneralSettings
	LiteLLM LiteLLMSettings
	Router  RouterSettings

	// UserIDMappings is the user_id_mappings section (memory routing).
	UserIDMappings UserIDMappings

	// Ignored lists the YAML paths of keys llmedge reads but does not act
	// on (e.g. "litellm_settings.callbacks", "general_settings.database_url"),
	// sorted, each once. main reports them at startup.
	Ignored []string

	// Warnings are non-fatal problems found while loading (a deployment
	// whose os.environ variable is unset, a duplicate key, ...). They never
	// contain a secret value.
	Warnings []string
}

// Deployment is one model_list entry.
type Deployment struct {
	// Index is the entry's position in model_list.
	Index int
	// ModelName is the public name clients ask for (model_name).
	ModelName string
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
	// ExtraHeaders are litellm_params.extra_headers, in file order.
	ExtraHeaders []Header

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
	RPM int
	TPM int
	// MaxParallel is litellm_params.max_parallel_requests: calls in
	// flight on this deployment at once, streams until their end
	// (0 = router_settings.default_max_parallel_requests, else none).
	MaxParallel int
	// Weight is litellm_params.weight for simple-shuffle (0 = unset).
	Weight float64

	// MockResponse is litellm_params.mock_response; HasMockResponse tells
	// an explicit empty string from absence.
	MockResponse    string
	HasMockResponse bool

	// Params holds every litellm_params key after os.environ resolution,
	// including the ones above, for provider-specific settings
	// (thinking, vertex_project, aws_region_name, ...).
	Params map[string]any
	// ModelInfo holds model_info after resolution (mode,
	// input_cost_per_token, ...).
	ModelInfo map[string]any

	// MissingEnv names the os.environ/ variables this entry references
	// that are unset. A deployment with MissingEnv is loaded but
	// unavailable: requests for it get 503 naming the variable.
	MissingEnv []string
}

// Header is one name/value pair, kept in file order.
type Header struct {
	Name  string
	Value string
}

// GeneralSettings is general_settings.
type GeneralSettings struct {
	// MasterKey is general_settings.master_key; "" means no auth.
	MasterKey string
	// Raw holds the whole section after os.environ resolution, for
	// settings consumed by other packages.
	Raw map[string]any
}

// LiteLLMSettings is litellm_settings.
type LiteLLMSettings struct {
	// DropParams drops parameters a provider lacks instead of failing
	// with 400. Default false.
	DropParams bool
	// NumRetries is litellm_settings.num_retries; nil when unset.
	NumRetries *int
	// RequestTimeout is litellm_settings.request_timeout (0 = unset).
	RequestTimeout time.Duration
	// JSONLogs is litellm_settings.json_logs. Default false.
	JSONLogs bool
	Raw      map[string]any
}

// RouterSettings is router_settings. Parsed and kept; the router
// enforces what it understands.
type RouterSettings struct {
	RoutingStrategy string // default "simple-shuffle"
	NumRetries      *int
	Raw             map[string]any
}

// UserIDMappings is the user_id_mappings section.
type UserIDMappings struct {
	// CustomHeader is the header whose value is used as the user id when
	// present. Default "x-memory-user-id".
	CustomHeader string
	// HeaderPatterns are tried in order after the custom header.
	HeaderPatterns []HeaderPattern
	// DefaultUserID is used when nothing matched. Default "default-dev".
	DefaultUserID string
}

// HeaderPattern maps a regex match on a header to a user id.
type HeaderPattern struct {
	Header  string // lower-cased header name
	Pattern string // as written in the file
	UserID  string
	// Regexp is Pattern compiled with "(?i)" prepended: case-insensitive
	// and unanchored (use ^...$ in the pattern to anchor).
	Regexp *regexp.Regexp
}
