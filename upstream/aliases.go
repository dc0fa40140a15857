package upstream

import (
	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/transport"
)

// Names server/ and main use whose home is the transport or the
// provider package: the same types, kept here so that callers of
// upstream need not know how it is divided.

// Cancel is shared by everything one client request does upstream
// (transport.Cancel).
type Cancel = transport.Cancel

// ErrCanceled is returned by a call whose Cancel was called (the client
// went away).
var ErrCanceled = transport.ErrCanceled

// PoolSettings size the per-host connection pools (transport.PoolSettings).
type PoolSettings = transport.PoolSettings

// Observed is what a call measured about itself (transport.Observed);
// Response embeds it.
type Observed = transport.Observed

// ChatRequest is one client request as received (provider.Request).
type ChatRequest = provider.Request

// Endpoint is the part of a Deployment a provider's attempt sees
// (provider.Endpoint).
type Endpoint = provider.Endpoint

// AttemptTracer traces a call's upstream attempts
// (provider.AttemptTracer).
type AttemptTracer = provider.AttemptTracer

// AnthropicInbound describes a native Anthropic Messages call
// (provider.AnthropicInbound).
type AnthropicInbound = provider.AnthropicInbound

// Error is a failure to hand the client (provider.Error).
type Error = provider.Error

// Usage is the token count an upstream answer reported (provider.Usage).
type Usage = provider.Usage

// Stream is an answer being streamed in the client's format
// (provider.Stream); Writer is what it relays to.
type (
	Stream = provider.Stream
	Writer = provider.Writer
)

// ErrClientGone is returned by Stream.Relay when writing to the client
// failed.
var ErrClientGone = provider.ErrClientGone

// Route is the OpenAI endpoint a request is for (provider.Route).
type Route = provider.Route

// The routes llmedge passes through (provider.RouteChat...).
const (
	RouteChat               = provider.RouteChat
	RouteCompletions        = provider.RouteCompletions
	RouteEmbeddings         = provider.RouteEmbeddings
	RouteResponses          = provider.RouteResponses
	RouteResponseGet        = provider.RouteResponseGet
	RouteResponseDelete     = provider.RouteResponseDelete
	RouteResponseCancel     = provider.RouteResponseCancel
	RouteResponseInputItems = provider.RouteResponseInputItems
)

// Redacted replaces a secret in text llmedge passes on.
const Redacted = provider.Redacted

// ScrubSecrets replaces every occurrence of secrets in b and anything
// shaped like a provider key (provider.ScrubSecrets).
func ScrubSecrets(b []byte, secrets []string) []byte { return provider.ScrubSecrets(b, secrets) }

// AppendStreamError appends the SSE events that end a stream of route r
// with failure e (provider.AppendStreamError).
func AppendStreamError(dst []byte, r Route, e *Error) []byte {
	return provider.AppendStreamError(dst, r, e)
}
