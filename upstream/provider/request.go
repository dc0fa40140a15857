package provider

import (
	"time"

	"github.com/llmedge/llmedge/upstream/transport"
)

// Request is one client request as received: an OpenAI chat
// completion, or another route's call.
// Body must stay valid and unchanged until the answer is released.
type Request struct {
	// Body is the client's JSON body.
	Body []byte
	// ModelStart and ModelEnd delimit the "model" string literal (with
	// its quotes) in Body; it is replaced by the upstream model id.
	ModelStart, ModelEnd int
	// Model is the requested model name (unescaped).
	Model []byte
	// Stream is the body's "stream" flag.
	Stream bool
	// IncludeUsage is the body's stream_options.include_usage.
	IncludeUsage bool
	// RequestID is sent upstream as x-request-id.
	RequestID []byte
	// UserID is the memory user id. It is sent upstream as
	// x-sm-user-id only when MemoryRouting is set or the deployment is
	// supermemory's proxy (SendUserID): a user id is not sent to third
	// parties that did not ask for it.
	UserID []byte
	// MemoryRouting is true when the config asks for memory routing
	// (user_id_mappings, or an api_keys entry bound to a user).
	MemoryRouting bool
	// Cancel stops every attempt of the call; required.
	Cancel *transport.Cancel
	// Anthropic, when set, is a native Anthropic Messages call
	// (POST /v1/messages) passed through instead of translated.
	Anthropic *AnthropicInbound
	// AnthropicBeta is the anthropic-beta list a model-name suffix asked
	// for on an OpenAI route ("claude-sonnet-4-5,context-1m-2025-08-07"),
	// sent by the providers hosting Claude (filtered to what each
	// accepts) and ignored by the rest. /v1/messages calls carry theirs,
	// merged with the client's header, in Anthropic.Beta.
	AnthropicBeta []byte
	// Route is the endpoint called (zero: chat). By-id routes (GET and
	// DELETE of a stored response) have no Body and name ResponseID.
	Route      Route
	ResponseID []byte
	// Caller names the caller for the responses the gateway stores: a
	// keyed hash of its API key, never the key. A stored response is
	// reached by its caller only; Admin (the master key) may also read
	// and delete any other's (upstream/respstore).
	Caller string
	Admin  bool
	// Query, when set, is the raw query string passed upstream.
	Query []byte
	// WantUsage asks for the answer's token usage in Response.Usage
	// even for a stream whose client did not ask (tokens-per-minute
	// limits).
	WantUsage bool
	// UsagePatch, when set, is spliced into Body at UsagePatchAt in
	// place of UsagePatchDel bytes to turn on
	// stream_options.include_usage; the usage-only chunk this adds is
	// then kept from the client.
	UsagePatch                  []byte
	UsagePatchAt, UsagePatchDel int
	// Tracer, when set, traces each attempt (trace.go); the router sets
	// Traceparent and Tracestate to the current attempt's, which
	// SetTraceHeaders sends upstream.
	Tracer                  AttemptTracer
	Traceparent, Tracestate string
	// AttemptStart is when the current attempt began (the router sets
	// it): its timeout runs from there, without reading the clock
	// again. Zero: Call reads the clock. Before the first attempt the
	// caller may set it to when the request was read: the router then
	// reads the monotonic clock alone (internal/clock).
	AttemptStart time.Time
}

// AnthropicInbound describes a native Anthropic Messages call
// (POST /v1/messages or /v1/messages/count_tokens) whose body is passed
// through: "model" rewritten for Anthropic, the host's own form for
// Claude on Vertex AI and Bedrock.
type AnthropicInbound struct {
	// CountTokens selects /v1/messages/count_tokens.
	CountTokens bool
	// Version and Beta are the client's anthropic-version and
	// anthropic-beta headers (empty = not sent).
	Version, Beta []byte
}

// SendUserID reports whether req's user id goes to d as x-sm-user-id.
func (req *Request) SendUserID(d *Endpoint) bool {
	return len(req.UserID) > 0 && (req.MemoryRouting || d.Options.Supermemory)
}
