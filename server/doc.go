// Package server is llmedge's HTTP edge: the OpenAI-compatible and
// Anthropic Messages routes and their handlers, authentication and
// keys (the database's virtual keys from package keys: dbkeys.go,
// with LiteLLM's management routes and budget refusals), request
// bodies in flight, CORS,
// memory user ids, writing answers and SSE streams to clients (with
// write deadlines, keepalive pings and the shutdown cut), the error
// shapes clients see (built by internal/errbody), health, the config
// snapshot and its reload, and reading the general_settings /
// router_settings keys it enforces (settings.go).
//
// A model request's path reads in one direction: handler (call.go,
// messages.go; the body checked and read by server/request) →
// admission (admission.go, rate limits in server/limits) → the
// registry's router → provider → relay (package upstream) → answer
// (stream.go, answerbody.go, keepalive.go) → finish (call.go),
// observed by server/observe (metrics, access log, timing headers) from
// one Begin to one Finish. server/connwatch watches the client
// connection (disconnects, bare-LF heads).
//
// It must not know any provider's wire format (upstream translates;
// Anthropic-shaped errors on /v1/messages come from internal/errbody),
// walk request bodies itself (server/request does), count limits itself
// (server/limits does), or format metrics and log lines (server/observe
// does).
package server
