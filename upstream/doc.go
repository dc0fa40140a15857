// Package upstream owns the provider side of llmedge's request path
// above the wire: the registry of deployments built from the config
// (registry.go, providers.go, routes.go, settings.go), and the router
// that serves a call on them: selection (selection.go), retries
// (retry.go), cooldowns (cooldown.go), fallbacks (fallbacks.go),
// max_parallel_requests slots (parallel.go), with the hooks metrics
// observe (observe.go). Chat (chat.go) is its one entry point: the
// router picks a deployment and hands the attempt to its provider.
//
// What is below it lives in subpackages: upstream/provider is the
// contract every provider implements and shares (Descriptor, Endpoint,
// Request, Answer, the one relay driver, client-facing errors);
// upstream/provider/<name> is one provider each (anthropic, azure,
// bedrock, cloudflare, mock, openai for the OpenAI-compatible family,
// vertex); upstream/transport moves the bytes (pools, dialing, the
// exchange, framing, redirects, cookies). Only tests import
// upstream/provider/providertest (fake provider APIs on loopback, from
// their documented wire formats) and upstream/upstreamtest (a call run
// through a Registry as the server runs it): the providers' and the
// router's tests live beside their code with them. providerTable
// (providers.go) is the one list of providers: adding one is a new
// package exporting its Descriptor and one table line:
//
//	// upstream/provider/acme/acme.go
//	var Provider = provider.Descriptor{Routes: provider.RoutesChatOnly, Build: build, Attempt: attempt}
//
//	// upstream/providers.go, providerTable
//	"acme": &acme.Provider,
//
// (an OpenAI-compatible server needs only the table line:
// openai.Compatible(routes, defaultBase, keyEnv)).
//
// The names server/ uses whose home is a subpackage (ChatRequest, Error,
// Usage, Route, Stream, Cancel, PoolSettings...) are aliases here
// (aliases.go), so callers need not know how upstream is divided.
//
// Clients of another API reach any deployment through its chat
// attempt: /v1/messages and /v1/responses calls to a deployment without
// that API are translated by translate/messages and translate/responses
// (messages_chat.go, responses_chat.go), the relay's translator wrapped
// by clientStream; translated responses are kept in respstore and
// served by id (GET, DELETE, input_items, cancel) from it
// (responses_stored.go).
//
// It knows nothing of llmedge's HTTP server: it takes a client body and
// a few request facts and returns either a complete response or a Stream
// of events in the client's format. It must not write client-facing
// headers, decide authentication, or log secrets, and must not speak a
// provider's wire format itself (that is the provider packages').
// Error bodies are written by internal/errbody and JSON is walked by
// internal/jsonx.
package upstream
