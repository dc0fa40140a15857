package vertex

import (
	"bytes"
	"github.com/llmedge/llmedge/upstream/provider/anthropic"
	"net/url"

	"github.com/bytedance/sonic"
	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/upstream/provider"
)

// vertexAnthropicVersion is the anthropic_version Vertex AI requires in
// the body of Claude requests (Anthropic's "Claude on Vertex AI" docs).
const vertexAnthropicVersion = "vertex-2023-10-16"

// vertexAnthropicProvider is Claude on Vertex AI: Anthropic's Messages
// format on rawPredict / streamRawPredict. vertex_ai deployments of
// Claude models become it when built (buildVertex).
// Native /v1/messages calls pass through (native.go).
var vertexAnthropicProvider = provider.Descriptor{Routes: provider.RoutesChatOnly, AnthropicMessages: true, AnthropicOptions: true, Attempt: vertexAnthropicAttempt}

// buildVertexAnthropic sets up Claude on Vertex AI: Anthropic's Messages
// format posted to the model's rawPredict (or streamRawPredict) method,
//
//	POST {host}/v1/projects/{project}/locations/{location}/publishers/anthropic/models/{model}:rawPredict
//
// with the model named by the URL (no "model" in the body) and
// "anthropic_version": "vertex-2023-10-16" in the body. The OpenAI <->
// Anthropic translation is the anthropic/ provider's.
func buildVertexAnthropic(d *provider.Endpoint, b *provider.BuildEnv, prefix, model string) *config.Error {
	if d.Wildcard {
		b.Unsupported(d, "vertex_ai wildcard deployments are not supported")
		return nil
	}
	d.StreamURI = prefix + "/publishers/anthropic/models/" + url.PathEscape(model) + ":streamRawPredict"
	d.Options.CountTokensURI = prefix + "/publishers/anthropic/models/count-tokens:rawPredict"
	d.QuotedModel = jsonx.AppendString(nil, model)
	return nil
}

// vertexAnthropicAttempt serves one OpenAI chat request on a Claude
// deployment of Vertex AI.
func vertexAnthropicAttempt(d *provider.Endpoint, req *provider.Request, model []byte, out *provider.Answer) *provider.Error {
	if req.Anthropic != nil {
		return vertexNative(d, req, out)
	}
	out.X.Release(&out.Resp)
	body, terr := anthropic.TranslateRequest(d, req.Body, "", req.Stream)
	if terr != nil {
		return terr
	}
	body, terr = vertexAnthropicBody(body)
	if terr != nil {
		return terr
	}
	uri := d.URI
	if req.Stream {
		uri = d.StreamURI
	}
	ureq := out.Request()
	anthropic.SetHeaders(d, ureq, req, uri, nil, vertexBetas.Filter(nil, req.AnthropicBeta))
	ureq.Header.Del("Anthropic-Version") // Vertex takes it in the body
	if e := d.SetAuth(ureq); e != nil {
		return e
	}
	ureq.SetBodyRaw(body)
	return anthropic.Answer(d, req, out)
}

// vertexAnthropicBody turns an Anthropic Messages body into Vertex's
// form: "model" removed, "anthropic_version" added.
func vertexAnthropicBody(body []byte) ([]byte, *provider.Error) {
	const emptyModel = `{"model":""`
	if bytes.HasPrefix(body, []byte(emptyModel)) {
		// translateRequest writes "model" first: swap it in place.
		out := make([]byte, 0, len(body)+32)
		out = append(out, `{"anthropic_version":"`+vertexAnthropicVersion+`"`...)
		return append(out, body[len(emptyModel):]...), nil
	}
	var m map[string]any
	if err := sonic.Unmarshal(body, &m); err != nil {
		return nil, &provider.Error{Status: 500, Type: "api_error", Message: "cannot build the Vertex request: " + err.Error()}
	}
	delete(m, "model")
	m["anthropic_version"] = vertexAnthropicVersion
	b, err := sonic.Marshal(m)
	if err != nil {
		return nil, &provider.Error{Status: 500, Type: "api_error", Message: "cannot build the Vertex request: " + err.Error()}
	}
	return b, nil
}
