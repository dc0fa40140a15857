package upstream

import (
	"fmt"
	"github.com/llmedge/llmedge/upstream/provider"

	"github.com/llmedge/llmedge/upstream/translate/messages"
	"github.com/llmedge/llmedge/upstream/translate/responses"
)

// Claude Code on any deployment: a /v1/messages call to a deployment
// that does not speak Anthropic's Messages API is translated to OpenAI
// chat (translate/messages), sent through the deployment's own chat
// attempt (pass-through, or its own translator) and the answer turned
// back into an Anthropic message or event stream.

// messagesConv is the clientConv of a translated /v1/messages stream.
type messagesConv struct{ s messages.Stream }

func (c *messagesConv) event(dst, data []byte) ([]byte, bool) { return c.s.Event(dst, data) }
func (c *messagesConv) end(dst []byte) []byte                 { return c.s.End(dst) }
func (c *messagesConv) fail(dst, msg []byte) []byte {
	return messages.AppendErrorEvent(dst, "api_error", msg)
}
func (c *messagesConv) finished() {}

// messagesRequest decodes the client's Anthropic body once per call.
func (out *Response) messagesRequest(req *ChatRequest) (*messages.Request, *Error) {
	cx := out.xlat()
	if cx.msg == nil {
		m, err := messages.Decode(req.Body)
		if err != nil {
			return nil, translateError(err)
		}
		cx.msg = m
	}
	return cx.msg, nil
}

// translateError is the 400 for a client body a translator cannot read.
func translateError(err error) *Error {
	param := ""
	switch e := err.(type) {
	case *messages.Error:
		param = e.Param
	case *responses.Error:
		param = e.Param
	}
	return &Error{Status: 400, Type: "invalid_request_error", Param: param, Code: "invalid_request", Message: err.Error()}
}

// messagesViaChat serves one attempt of a /v1/messages call on a
// deployment without the Messages API.
func (reg *Registry) messagesViaChat(d *Deployment, req *ChatRequest, out *Response, model []byte) *Error {
	if e := d.routeError(RouteChat); e != nil {
		e.Retryable = true
		return e
	}
	m, e := out.messagesRequest(req)
	if e != nil {
		return e
	}
	if req.Anthropic.CountTokens {
		// No counting endpoint outside Anthropic: the documented
		// estimate, answered here (translate/messages/count.go).
		out.X.Release(&out.Resp)
		out.Body = messages.AppendCount(out.Body[:0], m.EstimateTokens())
		out.StatusCode = 200
		out.ContentType = append(out.ContentType[:0], "application/json"...)
		return nil
	}
	cr, err := m.ToChat(d.chatTarget(req.Model), "")
	if err != nil {
		return translateError(err)
	}
	cx := out.xlat()
	if e := reg.chatAttempt(d, req, out, cr, model); e != nil {
		return e
	}
	if out.Stream != nil {
		cx.mconv.s.Reset(string(req.Model))
		out.WrapTranslator(func(t provider.Translator) provider.Translator { return newClientStream(t, &cx.mconv) })
		return nil
	}
	raw, jerr := messages.AppendAnswer(out.Raw[:0], out.Body, string(req.Model))
	if jerr != nil {
		return &Error{Status: 502, Type: "api_error", Code: "upstream_bad_response", Retryable: true,
			Message: fmt.Sprintf("upstream deployment %s sent an answer that is not a chat completion", d.ID)}
	}
	out.Raw, out.Body = out.Body, raw
	out.ContentType = append(out.ContentType[:0], "application/json"...)
	return nil
}
