package server

import (
	"bytes"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/llmedge/llmedge/server/observe"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// Request bodies are admitted from the request's headers, before
// fasthttp reads them (Server.HeaderReceived), so that neither a caller
// without a key nor many callers with one can make the gateway hold
// gigabytes of uploads:
//
//   - a body over preAuthBodyBytes (or chunked, its size unknown) is
//     read only when the headers carry a known key; otherwise the client
//     gets 401 and the connection is closed without reading the body;
//   - the bytes of such bodies held at once, from their first byte read
//     to the end of their request (or to the start of its streamed
//     answer: letBodyGo), are bounded by Options.MaxRequestBodyInFlight;
//     over it the client gets 503 with Retry-After, again without the
//     body being read.
//
// Smaller bodies are read as before: they cost about what a connection
// already costs (its 8 KiB read buffer, goroutine and context), and
// checking them would put a second SHA-256 of the key on every request.
//
// A refusal is a per-request body limit of one byte: fasthttp then
// fails the read at once from Content-Length (for chunked bodies, at the
// first chunk), and the ErrorHandler (handleTransportError) writes the
// answer the admission chose and closes the connection.

// preAuthBodyBytes is the largest body read before the key is checked.
const preAuthBodyBytes = 16 << 10

type bodyVerdict uint8

const (
	bodyAdmitted bodyVerdict = iota
	bodyUnauthenticated
	bodyOverBudget
)

// bodyHold is one large body's admission: the bytes it holds of the
// budget. It is handed to fasthttp as a request user value, whose Reset
// closes it when the request ends, however it ends.
type bodyHold struct {
	budget  *bodyBudget
	n       int64
	verdict bodyVerdict
}

// Close returns the hold's bytes to the budget.
func (h *bodyHold) Close() error {
	h.budget.release(h)
	return nil
}

// bodyHoldKey names the hold among the request's user values.
const bodyHoldKey = "llmedge.bodyHold"

// bodyBudget bounds the bytes of large request bodies in flight.
type bodyBudget struct {
	limit int64
	used  atomic.Int64

	// pending are holds decided in HeaderReceived and not yet attached
	// to their request (that needs the RequestCtx, which HeaderReceived
	// does not get), by the request's header; npending is its size, so
	// that requests with small bodies skip the lock.
	mu       sync.Mutex
	pending  map[*fasthttp.RequestHeader]*bodyHold
	npending atomic.Int64

	holds sync.Pool
}

func newBodyBudget(limit int64) *bodyBudget {
	b := &bodyBudget{limit: limit, pending: map[*fasthttp.RequestHeader]*bodyHold{}}
	b.holds.New = func() any { return &bodyHold{budget: b} }
	return b
}

// reserve takes n bytes of the budget, or nothing when they do not fit.
func (b *bodyBudget) reserve(n int64) bool {
	for {
		used := b.used.Load()
		if used+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// shrink lowers h's hold to n bytes when it holds more, giving the rest
// back to the budget.
func (b *bodyBudget) shrink(h *bodyHold, n int64) {
	if n < h.n {
		b.used.Add(n - h.n)
		h.n = n
	}
}

func (b *bodyBudget) release(h *bodyHold) {
	if h.n != 0 {
		b.used.Add(-h.n)
	}
	h.n, h.verdict = 0, bodyAdmitted
	b.holds.Put(h)
}

// park keeps h until its request's handler or error handler takes it.
// A hold left by a request of the same header that reached neither
// (the connection was closed under it) is released.
func (b *bodyBudget) park(hdr *fasthttp.RequestHeader, h *bodyHold) {
	b.mu.Lock()
	old := b.pending[hdr]
	b.pending[hdr] = h
	if old == nil {
		b.npending.Add(1)
	}
	b.mu.Unlock()
	if old != nil {
		b.release(old)
	}
}

// take returns the hold parked for the request and attaches it to the
// request, which releases it when it ends; nil when none was parked.
func (b *bodyBudget) take(req *fasthttp.Request) *bodyHold {
	if b.npending.Load() == 0 {
		return nil
	}
	b.mu.Lock()
	h := b.pending[&req.Header]
	if h != nil {
		delete(b.pending, &req.Header)
		b.npending.Add(-1)
	}
	b.mu.Unlock()
	if h != nil {
		req.SetUserValue(bodyHoldKey, h)
	}
	return h
}

// admitBody is Server.HeaderReceived: it decides, from the headers
// alone, whether a large body may be read.
func (s *Server) admitBody(hdr *fasthttp.RequestHeader) fasthttp.RequestConfig {
	cl := hdr.ContentLength()
	if cl == -2 || (cl >= 0 && cl <= preAuthBodyBytes) {
		return fasthttp.RequestConfig{}
	}
	b := s.bodies
	h := b.holds.Get().(*bodyHold)
	n := int64(cl)
	if cl < 0 { // chunked: counted at the most it may be until read
		n = int64(s.opts.MaxRequestBodySize)
	}
	switch {
	case s.current().auth.identify(hdr) == nil:
		h.verdict = bodyUnauthenticated
	case cl > s.opts.MaxRequestBodySize:
		// fasthttp refuses it (413) from Content-Length, unread.
		b.release(h)
		return fasthttp.RequestConfig{}
	case !b.reserve(n):
		h.verdict = bodyOverBudget
	default:
		h.n = n
	}
	b.park(hdr, h)
	if h.verdict != bodyAdmitted {
		return fasthttp.RequestConfig{MaxRequestBodySize: 1}
	}
	return fasthttp.RequestConfig{}
}

// withBodyHold attaches a large body's hold to its request before the
// handler runs, counting a chunked body at its real size from now on;
// then it applies allowed_ips / allowed_routes (refuseAccess, access.go),
// in this frame rather than in a wrapper of its own.
func (s *Server) withBodyHold(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		if h := s.bodies.take(&ctx.Request); h != nil {
			s.bodies.shrink(h, int64(len(ctx.Request.Body())))
		}
		if s.current().edge.access != nil && s.refuseAccess(ctx) {
			return
		}
		next(ctx)
	}
}

// refuseBody answers a request whose body the admission refused; false
// when its body was admitted (the read failed for another reason).
func (s *Server) refuseBody(ctx *fasthttp.RequestCtx) bool {
	h := s.bodies.take(&ctx.Request)
	if h == nil || h.verdict == bodyAdmitted {
		return false
	}
	anthropic := isMessagesPath(ctx.Path())
	switch h.verdict {
	case bodyUnauthenticated:
		if anthropic {
			writeAnthropicAuthError(ctx)
		} else {
			writeAuthError(ctx)
		}
		s.observeRejected(ctx, s.current(), nil, false, observe.RejectAuth)
	case bodyOverBudget:
		ctx.Response.Header.Set("Retry-After", "1")
		msg := "the gateway holds " + strconv.FormatInt(s.bodies.limit>>20, 10) + " MiB of request bodies in flight, its limit: retry shortly"
		refuse(ctx, anthropic, fasthttp.StatusServiceUnavailable, "server_error", "overloaded_error", "", "request_bodies_in_flight", msg)
		s.observeRejected(ctx, s.current(), nil, false, observe.RejectBodiesInFlight)
	}
	return true
}

// isMessagesPath reports whether p is an Anthropic Messages route.
func isMessagesPath(p []byte) bool {
	return bytes.HasPrefix(p, []byte("/v1/messages")) || bytes.HasPrefix(p, []byte("/messages"))
}

// BodyBytesInFlight is the bytes of large request bodies admitted and
// not yet released.
func (s *Server) BodyBytesInFlight() int64 { return s.bodies.used.Load() }

// letBodyGo lets a large request body go once its answer streams. A
// stream holds its connection, call and request for seconds to minutes,
// and a coding agent's prompt runs to hundreds of KiB; nothing reads the
// body after the stream's first event: no attempt is made after it, the
// cache key and the token estimate were taken before, and a translation
// keeps what it decoded. So the body's buffer is taken off the request
// and the bytes go back to the in-flight budget; the copies the attempt
// made go too (upstream.Response.LetRequestGo). The model name and betas,
// which the call reads to its end, are copied out first.
//
// The buffer is detached (SwapBody), not handed back to fasthttp's pool:
// the garbage collector frees it once nothing refers to it, so a slice
// into it that some path still holds keeps it alive and unchanged, never
// reused under it. A body up to preAuthBodyBytes stays: it costs what
// the connection does, and its buffer is reused by the next request.
//
//go:noinline
func (s *Server) letBodyGo(ctx *fasthttp.RequestCtx, c *call, resp *upstream.Response) {
	f, r := &c.fields, &c.req
	if len(r.Body) <= preAuthBodyBytes {
		return
	}
	k := slices.Grow(c.kept[:0], len(f.Model)+len(f.Betas)+len(c.anth.Beta))
	k, f.Model = keepCopy(k, f.Model)
	k, f.Betas = keepCopy(k, f.Betas)
	if r.Anthropic != nil { // /v1/messages: its betas may be the model's suffix
		k, c.anth.Beta = keepCopy(k, c.anth.Beta)
	}
	c.kept = k
	r.Model, r.AnthropicBeta, r.Body = f.Model, f.Betas, nil
	resp.LetRequestGo(r)
	ctx.Request.SwapBody(nil)
	if h, ok := ctx.Request.UserValue(bodyHoldKey).(*bodyHold); ok {
		s.bodies.shrink(h, 0)
	}
}

// keepCopy appends p to k (which has room: no slice taken from k moves)
// and returns the copy; an empty p is returned as it is.
func keepCopy(k, p []byte) ([]byte, []byte) {
	if len(p) == 0 {
		return k, p
	}
	n := len(k)
	k = append(k, p...)
	return k, k[n:len(k):len(k)]
}
