// Package cache owns llmedge's response cache: the key (a canonical
// hash of what determines an answer), the stores (memory with a byte
// budget, Redis with TTLs and a namespace, disk with atomic writes and a
// bound), the stored form of an answer (a JSON body, or a stream as its
// SSE events), replaying a stored answer with fresh ids, and the
// coalescer that makes N identical requests in flight cost one upstream
// call.
//
// It knows the OpenAI answer shapes (chat, legacy completions,
// embeddings, Responses) only as far as ids, timestamps and usage go. It
// must not touch HTTP (package server writes headers, decides when to
// look up and when to store), call upstreams (the server hands it a
// function that does), or log request content: only keys, sizes and
// store errors.
package cache
