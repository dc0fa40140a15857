package upstream

import (
	"sync"
	"time"

	"github.com/llmedge/llmedge/upstream/provider"
)

// Response is the result of Chat. Acquire with AcquireResponse, give
// back with ReleaseResponse (which also closes a stream).
type Response struct {
	// Deployment answered (the last one tried on failure).
	Deployment *Deployment
	// Attempts counts upstream attempts made.
	Attempts int
	// BackoffWait is the time the call slept between attempts (retry
	// backoff, Retry-After): neither llmedge's work nor the upstream's,
	// so it is reported apart from both.
	BackoffWait time.Duration
	// Answer is what the answering attempt left: StatusCode,
	// ContentType, Body or Stream, Usage, and the timings (Observed).
	provider.Answer

	// slot is the deployment whose max_parallel_requests slot this
	// answer holds (parallel.go); nil when none.
	slot    *Deployment
	slotReg *Registry

	// defaults and defaultsBody are the request with the answering
	// deployment's request defaults merged in (defaults.go); the body
	// must outlive the attempt, so they live with the answer.
	defaults     *ChatRequest // taken on first use: most deployments have none
	defaultsBody []byte
	// cx is the translation state of a call from a client of another
	// API (client_stream.go, messages_chat.go, responses_chat.go), taken
	// from xlatPool by the first attempt that translates (xlat): a
	// same-API call, the common case, does not carry its 1.5 KiB for
	// the length of a stream.
	cx *clientXlat
}

var responsePool = sync.Pool{New: func() any { return new(Response) }}

var xlatPool = sync.Pool{New: func() any { return new(clientXlat) }}

// xlat is r's translation state, taken on first use.
func (r *Response) xlat() *clientXlat {
	if r.cx == nil {
		r.cx = xlatPool.Get().(*clientXlat)
	}
	return r.cx
}

// AcquireResponse returns an empty Response from a pool.
func AcquireResponse() *Response { return responsePool.Get().(*Response) }

// ReleaseResponse closes r's stream (if any) and returns r to the pool.
func ReleaseResponse(r *Response) {
	ResetResponse(r)
	responsePool.Put(r)
}

// ResetResponse closes r's stream (if any) and empties r for another
// call, for an owner that keeps it (the server's pooled call holds one:
// no pool round trip per request).
func ResetResponse(r *Response) {
	r.Answer.Reset()
	if r.cx != nil {
		r.cx.reset()
		xlatPool.Put(r.cx)
		r.cx = nil
	}
	r.freeSlot()
	r.Deployment = nil
	r.Attempts = 0
	r.BackoffWait = 0
	if r.defaults != nil {
		*r.defaults = ChatRequest{}
	}
	if cap(r.defaultsBody) > 64<<10 {
		r.defaultsBody = nil // do not pool a large body's buffer
	}
}

// LetRequestGo drops what r holds of the client's request once its
// answer is a started stream, so that an open stream holds no copy of
// a long prompt: the body with request defaults merged in and a
// translation's request (the upstream request's own body went when
// the stream started: provider.Answer.StartRelay). req is the call's
// request, whose Body the caller lets go too: the copy's Model and
// AnthropicBeta are pointed where req's now are. Nothing is sent again
// after a stream's first event.
func (r *Response) LetRequestGo(req *ChatRequest) {
	if d := r.defaults; d != nil && d.Body != nil {
		d.Body = nil
		d.Model, d.AnthropicBeta = req.Model, req.AnthropicBeta
	}
	if cap(r.defaultsBody) > provider.MaxKeptRequestBody {
		r.defaultsBody = nil
	}
	if r.cx != nil {
		r.cx.letRequestGo(req)
	}
}

// Chat sends req to a deployment of g: the router picks one, retries,
// cools failing deployments down and falls back to other groups
// (router.go). On success out holds the answer; on failure the error is
// an *Error.
func (reg *Registry) Chat(g *Group, req *ChatRequest, out *Response) error {
	if err := reg.route(g, req, out); err != nil {
		return err
	}
	return nil
}

// attemptCatchAll makes the attempt on the deployment a "*" catch-all
// picks for the requested model (catchall.go).
//
//go:noinline
func (reg *Registry) attemptCatchAll(d *Deployment, g *Group, req *ChatRequest, out *Response) *Error {
	sd, model, err := d.catchAll.pick(d, d.attemptModel(g, req))
	if err != nil {
		return err
	}
	return reg.attempt(sd, g, req, out, model)
}

// attempt makes one attempt on d, which serves the request as model
// (a catch-all deployment's attempts go through attemptCatchAll).
func (reg *Registry) attempt(d *Deployment, g *Group, req *ChatRequest, out *Response, model []byte) *Error {
	if err := d.routeError(req.Route); err != nil {
		err.Retryable = true // another deployment of the group may serve it
		return err
	}
	if d.desc == nil {
		return &Error{Status: d.UnavailableStatus, Type: provider.ErrorType(d.UnavailableStatus), Code: d.UnavailableCode, Message: d.Unavailable}
	}
	out.SlowUpstream = d.slowAnswers()
	out.RepeatLimit = reg.policy.repeatLimit
	switch spec := req.Route.Spec(); {
	case req.Anthropic != nil && !d.desc.AnthropicMessages:
		return reg.messagesViaChat(d, req, out, model)
	case req.Route == RouteResponses && !d.nativeResponses:
		return reg.responsesViaChat(d, req, out, model)
	case spec.ByID && spec.Family == RouteResponses:
		if ok, err := reg.storedResponse(req, out); ok {
			return err
		}
		if !d.nativeResponses {
			return responseNotFound(req)
		}
	}
	return d.desc.Attempt(&d.Endpoint, withDefaults(d, req, out), model, &out.Answer)
}

// attemptModel is the requested model as d's wildcard sees it.
func (d *Deployment) attemptModel(g *Group, req *ChatRequest) []byte {
	if d.Wildcard {
		return g.wildcardPart(req.Model)
	}
	return req.Model
}
