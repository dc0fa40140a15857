// Package server owns llmedge's client side: the OpenAI-compatible
// routes, authentication, request scanning and validation, the error
// shape clients see, and streaming answers to them with per-event
// flushes. It calls package upstream for everything provider-side and
// must not know any provider's wire format.
package server
