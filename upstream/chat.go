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

	// defaultsReq and defaultsBody are the request with the answering
	// deployment's request defaults merged in (defaults.go); the body
	// must outlive the attempt, so they live with the answer.
	defaultsReq  ChatRequest
	defaultsBody []byte
}

var responsePool = sync.Pool{New: func() any { return new(Response) }}

// AcquireResponse returns an empty Response from a pool.
func AcquireResponse() *Response { return responsePool.Get().(*Response) }

// ReleaseResponse closes r's stream (if any) and returns r to the pool.
func ReleaseResponse(r *Response) {
	r.Answer.Reset()
	r.freeSlot()
	r.Deployment = nil
	r.Attempts = 0
	r.BackoffWait = 0
	r.defaultsReq = ChatRequest{}
	if cap(r.defaultsBody) > 64<<10 {
		r.defaultsBody = nil // do not pool a large body's buffer
	}
	responsePool.Put(r)
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

func (reg *Registry) attempt(d *Deployment, g *Group, req *ChatRequest, out *Response) *Error {
	model := req.Model
	if d.Wildcard {
		model = g.wildcardPart(req.Model)
	}
	if d.catchAll != nil {
		sd, m, err := d.catchAll.pick(d, model)
		if err != nil {
			return err
		}
		if sd.Unavailable != "" {
			return &Error{Status: sd.UnavailableStatus, Type: provider.ErrorType(sd.UnavailableStatus), Code: sd.UnavailableCode, Message: sd.Unavailable}
		}
		d, model = sd, m
	}
	if err := d.routeError(req.Route); err != nil {
		err.Retryable = true // another deployment of the group may serve it
		return err
	}
	if d.desc == nil {
		return &Error{Status: d.UnavailableStatus, Type: provider.ErrorType(d.UnavailableStatus), Code: d.UnavailableCode, Message: d.Unavailable}
	}
	out.SlowUpstream = d.slowAnswers()
	return d.desc.Attempt(&d.Endpoint, withDefaults(d, req, out), model, &out.Answer)
}
