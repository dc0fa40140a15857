package upstream

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"github.com/llmedge/llmedge/upstream/provider"
	"time"

	"github.com/bytedance/sonic"
	"github.com/llmedge/llmedge/upstream/respstore"
	"github.com/llmedge/llmedge/upstream/translate/messages"
	"github.com/llmedge/llmedge/upstream/translate/responses"
)

// Codex on any deployment: a /v1/responses call to a deployment
// without a Responses API is translated to OpenAI chat
// (translate/responses) and sent through the deployment's own chat
// attempt; the answer becomes a response document or the Responses
// event stream. The gateway keeps what it answered (respstore) for
// previous_response_id and GET / DELETE by id.

// storeTimeout bounds one store call (a Redis round trip).
const storeTimeout = 2 * time.Second

// responsesConv is the clientConv of a translated /v1/responses stream.
type responsesConv struct {
	s     responses.Stream
	store func()
}

func (c *responsesConv) event(dst, data []byte) ([]byte, bool) { return c.s.Event(dst, data) }
func (c *responsesConv) end(dst []byte) []byte                 { return c.s.End(dst) }
func (c *responsesConv) fail(dst, msg []byte) []byte           { return c.s.AppendError(dst, msg) }
func (c *responsesConv) finished() {
	if c.store != nil {
		c.store()
		c.store = nil
	}
}

// responsesCall prepares the call's translation once: the decoded
// request, its id and the stored turns it continues.
func (reg *Registry) responsesCall(req *ChatRequest, out *Response) *Error {
	cx := out.xlat()
	if cx.rsp != nil {
		return nil
	}
	r, err := responses.Decode(req.Body)
	if err != nil {
		return translateError(err)
	}
	if r.PreviousResponseID != "" {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		// Only the caller's own: continuing is a client's turn, so even
		// the master key continues only what it made.
		e, ok, serr := reg.respStore().Get(ctx, r.PreviousResponseID, req.Caller)
		cancel()
		if serr != nil {
			return &Error{Status: 503, Type: "api_error", Code: "response_store_unavailable", Retryable: false,
				Message: "the response store is unavailable: previous_response_id cannot be read"}
		}
		if !ok {
			return &Error{Status: 400, Type: "invalid_request_error", Param: "previous_response_id", Code: "previous_response_not_found",
				Message: fmt.Sprintf("Previous response with id '%s' not found.", r.PreviousResponseID)}
		}
		cx.history = e.Conversation
	}
	var id [12]byte
	_, _ = rand.Read(id[:])
	cx.meta = responses.NewMeta(r, "resp_"+hex.EncodeToString(id[:]), time.Now().Unix())
	cx.meta.Model = string(req.Model)
	cx.rsp = r
	cx.owner = req.Caller
	return nil
}

// responsesViaChat serves one attempt of a /v1/responses call on a
// deployment without the Responses API.
func (reg *Registry) responsesViaChat(d *Deployment, req *ChatRequest, out *Response, model []byte) *Error {
	if e := d.routeError(RouteChat); e != nil {
		e.Retryable = true
		return e
	}
	if e := reg.responsesCall(req, out); e != nil {
		return e
	}
	cx := out.xlat()
	cr, input, err := cx.rsp.ToChat(d.chatTarget(req.Model), "", cx.history)
	if err != nil {
		return translateError(err)
	}
	cx.input, _ = sonic.Marshal(input)
	if e := reg.chatAttempt(d, req, out, cr, model); e != nil {
		return e
	}
	if out.Stream != nil {
		c := &cx.rconv
		c.s.Reset(cx.meta)
		c.store = nil
		if cx.meta.Store {
			c.store = func() { reg.storeResponse(cx, &c.s.Result) }
		}
		out.WrapTranslator(func(t provider.Translator) provider.Translator { return newClientStream(t, c) })
		return nil
	}
	var res responses.Result
	if err := res.ReadAnswer(out.Body, &cx.meta); err != nil {
		return &Error{Status: 502, Type: "api_error", Code: "upstream_bad_response", Retryable: true,
			Message: fmt.Sprintf("upstream deployment %s sent an answer that is not a chat completion", d.ID)}
	}
	out.Raw, out.Body = out.Body, responses.AppendResponse(out.Raw[:0], &cx.meta, &res, "completed")
	out.ContentType = append(out.ContentType[:0], "application/json"...)
	if cx.meta.Store {
		reg.storeResponse(cx, &res)
	}
	return nil
}

// storeResponse keeps a finished translated response. A store failure
// costs the continuation, not the answer already given.
func (reg *Registry) storeResponse(cx *clientXlat, res *responses.Result) {
	e := &respstore.Entry{
		Response:     responses.AppendResponse(nil, &cx.meta, res, "completed"),
		Conversation: responses.AppendConversation(nil, cx.history, cx.input, res),
		Model:        cx.meta.Model,
		Owner:        cx.owner,
	}
	if cx.rsp != nil {
		e.Input, _ = responses.InputItems(cx.rsp.Input, cx.meta.ID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	_ = reg.respStore().Put(ctx, cx.meta.ID, e)
	cancel()
}

// clientXlat is a call's state for a client of another API: decoded
// once, kept across attempts, released with the Response.
type clientXlat struct {
	msg     *messages.Request
	rsp     *responses.Request
	meta    responses.Meta
	history []byte
	input   []byte
	owner   string // the caller, who will own the stored response
	body    []byte
	sub     ChatRequest
	mconv   messagesConv
	rconv   responsesConv
}

// letRequestGo drops the translation's copies of the client's request
// once its stream has started: the decoded Messages request, the chat
// body built from it, and (when the response is not stored) the chat
// input kept for the stored conversation. The sub-request's Model and
// AnthropicBeta are pointed where req's now are.
func (cx *clientXlat) letRequestGo(req *ChatRequest) {
	cx.msg = nil
	cx.sub.Body = nil
	cx.sub.Model, cx.sub.AnthropicBeta = req.Model, req.AnthropicBeta
	if cap(cx.body) > provider.MaxKeptRequestBody {
		cx.body = nil
	}
	if !cx.meta.Store {
		cx.input = nil
	}
}

func (cx *clientXlat) reset() {
	body := cx.body[:0]
	if cap(body) > 64<<10 {
		body = nil
	}
	// Field by field, in place, keeping mconv and rconv.s: a composite
	// literal with fields, or a copy of mconv, would be built in a
	// temporary on the stack first (~1.5 KiB), and the release runs on
	// a connection goroutine's stack (server/stack_test.go). A field
	// added to clientXlat must be reset here.
	cx.msg, cx.rsp = nil, nil
	cx.meta = responses.Meta{}
	cx.history, cx.input, cx.body = nil, nil, body
	cx.sub = ChatRequest{}
	cx.rconv.store = nil
}
