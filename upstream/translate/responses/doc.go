// Package responses translates OpenAI's Responses API (what Codex
// speaks) to OpenAI chat and back, for deployments without a Responses
// API: requests with input items and previous turns (request.go), the
// response document (result.go), JSON answers (answer.go) and the named
// stream events (stream.go).
//
// It owns the Responses side of that mapping and nothing else: storing
// conversations for previous_response_id is upstream's (it hands the
// stored turns in and takes the finished ones out), and it must not
// import upstream.
package responses
