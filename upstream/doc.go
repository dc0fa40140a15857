// Package upstream owns everything on the provider side of llmedge: the
// deployments built from the config, one connection pool per upstream
// host, the wire formats of the providers (pass-through for OpenAI and
// OpenAI-compatible servers, the in-process mock), retries across the
// deployments of a model group, timeouts, and cancellation.
//
// It knows nothing of llmedge's HTTP server: it takes a client body and
// a few request facts and returns either a complete response or a Stream
// of OpenAI-format SSE events. It must not write client-facing headers,
// decide authentication, or log secrets.
package upstream
