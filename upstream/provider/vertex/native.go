package vertex

import (
	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/provider/anthropic"
)

// vertexBetas are the anthropic-beta values Claude on Vertex AI
// accepts (LiteLLM's anthropic_beta_headers_config.json, "vertex_ai");
// the client's others are dropped, since Vertex answers 400 to a beta
// it does not know. advanced-tool-use is Vertex's tool-search-tool.
var vertexBetas = anthropic.Betas{
	"advanced-tool-use-2025-11-20":         "tool-search-tool-2025-10-19",
	"tool-search-tool-2025-10-19":          "tool-search-tool-2025-10-19",
	"compact-2026-01-12":                   "compact-2026-01-12",
	"compact-2026-09-04":                   "compact-2026-09-04",
	"computer-use-2025-01-24":              "computer-use-2025-01-24",
	"computer-use-2025-11-24":              "computer-use-2025-11-24",
	"context-1m-2025-08-07":                "context-1m-2025-08-07",
	"context-management-2025-06-27":        "context-management-2025-06-27",
	"dangerous-tool-use-2026-09-03":        "dangerous-tool-use-2026-09-03",
	"interleaved-thinking-2025-05-14":      "interleaved-thinking-2025-05-14",
	"per-turn-control-2026-07-01":          "per-turn-control-2026-07-01",
	"thinking-binding-controls-2026-08-01": "thinking-binding-controls-2026-08-01",
	"thinking-display-updates-2026-08-18":  "thinking-display-updates-2026-08-18",
	"web-search-2025-03-05":                "web-search-2025-03-05",
}

// vertexNativeDrop are the client's body members Vertex refuses: the
// model is named by the URL.
var vertexNativeDrop = []string{"model", "anthropic_version"}

var vertexVersionMember = []byte(`"anthropic_version":"` + vertexAnthropicVersion + `"`)

// vertexNative passes a client's Anthropic Messages call (Claude Code
// on /v1/messages) to Claude on Vertex AI as it came: the body with
// "model" taken out and Vertex's anthropic_version put in, the betas
// Vertex knows in anthropic-beta, to :rawPredict, :streamRawPredict or,
// for count_tokens, count-tokens:rawPredict (which takes the model in
// the body). The answer is Anthropic's own, relayed unchanged.
func vertexNative(d *provider.Endpoint, req *provider.Request, out *provider.Answer) *provider.Error {
	out.X.Release(&out.Resp)
	uri, add := d.URI, [][]byte{vertexVersionMember}
	switch {
	case req.Anthropic.CountTokens:
		uri = d.Options.CountTokensURI
		add = append(add, append([]byte(`"model":`), d.QuotedModel...))
	case req.Stream:
		uri = d.StreamURI
	}
	ureq := out.Request()
	beta := vertexBetas.Filter(nil, req.Anthropic.Beta)
	anthropic.SetHeaders(d, ureq, req, uri, nil, beta)
	ureq.Header.Del("Anthropic-Version") // Vertex takes it in the body
	if e := d.SetAuth(ureq); e != nil {
		return e
	}
	drop := vertexNativeDrop
	if !req.Anthropic.CountTokens {
		drop, add = anthropic.FitNativeThinking(req.Body, drop, add)
	}
	// A fresh buffer: ureq's own (empty here, SetHeaders reset it) would go
	// back to fasthttp's pool under SetBodyRaw while this body is sent.
	body, ok := anthropic.NativeBody(nil, req.Body, drop, add...)
	if !ok {
		return &provider.Error{Status: 400, Type: "invalid_request_error", Code: "invalid_request", Message: "request body is not a JSON object"}
	}
	ureq.SetBodyRaw(body)
	return anthropic.RelayNative(d, req, out)
}
