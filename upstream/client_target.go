package upstream

import (
	"bytes"

	"github.com/bytedance/sonic"
	"github.com/llmedge/llmedge/upstream/translate/chat"
)

// chatTarget is what the client translators need to know of d: whether
// its own translator reads Anthropic's extras, takes reasoning_effort,
// and wants max_completion_tokens.
func (d *Deployment) chatTarget(clientModel []byte) chat.Target {
	t := chat.Target{Model: string(clientModel)}
	if d.desc != nil && d.desc.AnthropicOptions {
		t.Anthropic, t.Reasoning = true, true
	}
	if d.Provider == "bedrock" {
		// Converse maps reasoning_effort to Claude's thinking.
		t.Reasoning = true
	}
	if v, ok := d.Config.ModelInfo["supports_reasoning"].(bool); ok && v {
		t.Reasoning = true
	}
	switch d.Provider {
	case "openai", "azure", "text-completion-openai":
		t.MaxCompletionTokens = true
	}
	return t
}

// chatAttempt runs d's own chat attempt for cr, the chat request
// translated from req (a client of another API), sent as model (what
// attempt resolved: a wildcard's part, a catch-all's model id) with d's
// request defaults merged in; the upstream's error comes back without
// its OpenAI-shaped body (clientError).
func (reg *Registry) chatAttempt(d *Deployment, req *ChatRequest, out *Response, cr *chat.Request, model []byte) *Error {
	cx := out.xlat()
	body, err := marshalChat(cx.body, cr)
	if err != nil {
		return &Error{Status: 500, Type: "api_error", Message: "translating the request: " + err.Error()}
	}
	cx.body = body
	chatSubRequest(&cx.sub, req, body)
	return clientError(d.desc.Attempt(&d.Endpoint, withDefaults(d, &cx.sub, out), model, &out.Answer))
}

// chatSubRequest fills sub, the chat request made for req (a client of
// another API) with body: the model placeholder delimited, usage asked
// for in the body already.
func chatSubRequest(sub *ChatRequest, req *ChatRequest, body []byte) {
	*sub = ChatRequest{Body: body, Model: req.Model, Stream: req.Stream, IncludeUsage: req.Stream,
		RequestID: req.RequestID, UserID: req.UserID, Cancel: req.Cancel, WantUsage: req.WantUsage, AnthropicBeta: req.AnthropicBeta}
	if i := bytes.Index(body, []byte(`"model":""`)); i >= 0 {
		sub.ModelStart, sub.ModelEnd = i+8, i+10
	}
}

// marshalChat encodes a translated chat request with an empty model
// (chatSubRequest delimits it; the deployment writes its own).
func marshalChat(dst []byte, r *chat.Request) ([]byte, error) {
	r.Model = ""
	b, err := sonic.Marshal(r)
	if err != nil {
		return dst, err
	}
	return append(dst[:0], b...), nil
}
