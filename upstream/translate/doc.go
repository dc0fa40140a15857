// Package translate groups the client-side translators that let a
// client of one API reach a deployment of another: messages (Anthropic
// Messages ↔ OpenAI chat, for Claude Code) and responses (OpenAI
// Responses ↔ OpenAI chat, for Codex), over chat, the OpenAI chat side
// both read.
//
// The translators are pure: bytes in, bytes out. They own the wire
// formats of the APIs they translate and must not touch connections,
// deployments, routing, limits or logging; upstream wires them into the
// relay driver.
package translate
