// Package messages translates Anthropic's Messages API (what Claude
// Code speaks) to OpenAI chat and back: requests (request.go), JSON
// answers (answer.go), stream events (stream.go), and an offline token
// estimate for count_tokens (count.go), so /v1/messages reaches any
// deployment that serves chat.
//
// It owns the Anthropic side of that mapping and nothing else: no
// connections, deployments or error statuses (upstream decides those),
// and it must not import upstream.
package messages
