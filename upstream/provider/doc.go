// Package provider is the contract between llmedge's router and the
// providers: what a provider declares (Descriptor: the routes its API
// serves, how a deployment is built from litellm_params, how one attempt
// runs, the health probe cheaper than a call: probe.go), what an attempt gets (Endpoint: the deployment's address,
// credentials, headers, timeouts and scrubber; Request: the client's
// request; Answer: where the result goes, with the exchange it reuses),
// and the pieces every provider shares: the one relay driver with its
// Translator interface (relay.go) and its repeated-chunk guard
// (repeat.go), the upstream call with the provider's own error format
// (call.go) and Cloudflare's block pages told apart from it
// (blockpage.go), each endpoint's constant request head built once and
// copied per request (head.go), the errors and stream failure events clients see
// (errors.go, streamerror.go), usage reading (usage.go), secret
// scrubbing (scrub.go), Anthropic thinking budgets fitted to
// Anthropic's minimum (thinking.go) and the one OpenAI request model
// the translating providers read (openai_request.go).
//
// Each provider lives in a package of its own that imports this one;
// upstream's provider table (upstream/providers.go) lists them.
// Adding a provider is one new package and one table line.
//
// It must not know the router (deployment selection, retries,
// cooldowns, fallbacks, slots), the registry or llmedge's HTTP server,
// and must not import any provider package. Bytes move through
// upstream/transport.
package provider
