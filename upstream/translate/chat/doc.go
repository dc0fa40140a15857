// Package chat reads and writes the OpenAI chat side shared by the
// client translators (messages, responses): the request model they
// build, the answer they read, a chat.completion.chunk walked without
// decoding and the one loop that hands a chunk stream's parts to
// either translator (events.go), usage and finish reasons.
//
// It owns no client API's format and must not import upstream: it sits
// under the translators, which sit under upstream.
package chat
