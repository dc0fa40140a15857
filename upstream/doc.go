// Package upstream owns everything on the provider side of llmedge: the
// deployments built from the config, the router (selection, retries,
// cooldowns, fallbacks, max_parallel_requests slots), one connection
// pool per upstream host, the providers' wire formats, timeouts and
// cancellation.
//
// Providers are descriptors (provider.go): each one, in its own files,
// declares the routes its API serves, how a deployment is built from
// litellm_params, and how one attempt runs; a streaming attempt hands a
// translator of upstream events to the one relay driver (relay.go),
// which owns writing, flushing, the client going away, draining and the
// final error event. providerTable lists them all. Adding a provider is
// one new file set and one table line:
//
//	// acme.go
//	var acmeProvider = provider{routes: routesChatOnly, build: buildAcme, attempt: (*Registry).acmeAttempt}
//
//	// provider.go, providerTable
//	"acme": &acmeProvider,
//
// (an OpenAI-compatible server needs only the table line:
// openAICompatible(routes, defaultBase, keyEnv)).
//
// Clients of another API reach any deployment through its chat
// attempt: /v1/messages and /v1/responses calls to a deployment without
// that API are translated by translate/messages and translate/responses
// (messages_chat.go, responses_chat.go), the relay's translator wrapped
// by clientStream; translated responses are kept in respstore.
//
// It knows nothing of llmedge's HTTP server: it takes a client body and
// a few request facts and returns either a complete response or a Stream
// of events in the client's format. It must not write client-facing
// headers, decide authentication, or log secrets. Error bodies are
// written by internal/errbody and JSON is walked by internal/jsonx.
package upstream
