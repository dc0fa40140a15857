package bedrock

import (
	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/upstream/provider/anthropic"
)

// converseBetas are the anthropic-beta values Converse passes to Claude
// in additionalModelRequestFields.anthropic_beta (LiteLLM's
// anthropic_beta_headers_config.json, "bedrock_converse"): what a
// model-name suffix asks for on a chat call ("…,context-1m-2025-08-07").
var converseBetas = anthropic.Betas{
	"computer-use-2025-01-24":                "computer-use-2025-01-24",
	"computer-use-2025-11-24":                "computer-use-2025-11-24",
	"context-1m-2025-08-07":                  "context-1m-2025-08-07",
	"effort-2025-11-24":                      "effort-2025-11-24",
	"fine-grained-tool-streaming-2025-05-14": "fine-grained-tool-streaming-2025-05-14",
	"structured-outputs-2025-11-13":          "structured-outputs-2025-11-13",
	"thinking-binding-controls-2026-08-01":   "thinking-binding-controls-2026-08-01",
	"thinking-display-updates-2026-08-18":    "thinking-display-updates-2026-08-18",
}

// addConverseBetas puts the betas of list that Converse accepts into a
// Converse body's additionalModelRequestFields.anthropic_beta.
func addConverseBetas(body, list []byte) []byte {
	arr, ok := converseBetas.AppendJSON([]byte(`"anthropic_beta":`), list)
	if !ok {
		return body
	}
	member := []byte(`"additionalModelRequestFields":`)
	if extra := jsonx.Get(body, "additionalModelRequestFields"); extra != nil {
		inner, ok := anthropic.NativeBody(nil, extra, []string{"anthropic_beta"}, arr)
		if !ok {
			return body
		}
		member = append(member, inner...)
	} else {
		member = append(append(append(member, '{'), arr...), '}')
	}
	out, ok := anthropic.NativeBody(make([]byte, 0, len(body)+len(member)), body, []string{"additionalModelRequestFields"}, member)
	if !ok {
		return body
	}
	return out
}
