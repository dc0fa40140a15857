package server

// The response cache on the request path (package cache has the key,
// the stores and the coalescer). A cacheable request is answered from
// the store (hit), or joins the one upstream call in flight for the
// same request (hit, coalesced), or starts that call (miss; bypass when
// the store is down or the request said no-cache). Every client of a
// call, the one that started it included, reads the answer from the
// call's flight, so one leaving never cuts the call for the others.

import (
	"errors"
	"github.com/llmedge/llmedge/server/request"
	"time"
	"unsafe"

	"github.com/llmedge/llmedge/server/cache"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// Values of x-llmedge-cache.
const (
	cacheHit    = "hit"
	cacheMiss   = "miss"
	cacheBypass = "bypass"
)

// cacheCall is a chat call's cache state (chatCall.cache).
type cacheCall struct {
	ctl    cache.Control
	use    bool // the request is cacheable and did not opt out
	key    cache.Key
	stream cacheStream
	hexKey [64]byte
}

// reset drops the call's hold on entries, flights and responses,
// keeping the replay buffers for the next call.
func (cc *cacheCall) reset() {
	cc.use = false
	cc.ctl = cache.Control{}
	cs := &cc.stream
	cs.rp.Release()
	cs.sub, cs.f, cs.resp, cs.sc = cache.Subscriber{}, nil, nil, nil
}

// cacheRoute is route as the cache's supported_call_types see it (0 =
// never cached: the by-id Responses routes).
func cacheRoute(r upstream.Route) cache.Route {
	switch r {
	case upstream.RouteChat:
		return cache.RouteChat
	case upstream.RouteCompletions:
		return cache.RouteCompletions
	case upstream.RouteEmbeddings:
		return cache.RouteEmbeddings
	case upstream.RouteResponses:
		return cache.RouteResponses
	}
	return 0
}

// cachePrepare reads the request's cache controls (before admission, so
// that a malformed one is a plain 400).
func cachePrepare(ctx *fasthttp.RequestCtx, sn *snapshot, c *call, route upstream.Route, body []byte) *request.Error {
	if c.cache != nil {
		c.cache.use = false
	}
	sc := sn.cache
	if sc == nil || !route.HasBody() {
		return nil
	}
	if c.cache == nil {
		c.cache = new(cacheCall) // kept with the pooled call
	}
	ctl, bad := cache.ParseControl(body, ctx.Request.Header.Peek("Cache-Control"))
	if bad != nil {
		return &request.Error{Msg: bad.Param + ": " + bad.Msg, Param: bad.Param}
	}
	c.cache.ctl = ctl
	c.cache.use = sc.St.Routes&cacheRoute(route) != 0 && (!sc.St.DefaultOff || ctl.UseCache)
	return nil
}

// viewBytes is s as bytes without copying, for a call that only reads.
func viewBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// serveCached serves c through the cache when it is cacheable; false
// when it must go upstream the usual way (the answer then says bypass).
func (s *Server) serveCached(ctx *fasthttp.RequestCtx, sn *snapshot, c *call, key *apiKey, g *upstream.Group) bool {
	sc, cc := sn.cache, c.cache
	h := &ctx.Response.Header
	if cacheRoute(c.req.Route) == 0 {
		return false // a by-id route: never cacheable, nothing to say
	}
	if !cc.use {
		sc.Bypasses.Add(1)
		h.Set("X-Llmedge-Cache", cacheBypass)
		c.obs.SetCache(cacheBypass)
		return false
	}
	ns := cc.ctl.Namespace
	if ns == nil {
		ns = viewBytes(sc.St.Namespace)
	}
	var parts [5][]byte
	parts[0] = []byte{byte(cacheRoute(c.req.Route))}
	parts[1], parts[2] = viewBytes(g.Name), ns
	n := 3
	if sc.St.Scope != cache.ScopeGlobal {
		parts[n] = viewBytes(key.id)
		n++
	}
	if sc.St.Scope == cache.ScopeUser {
		parts[n] = c.userID
		n++
	}
	var ok bool
	// The key lives in the pooled call: a local would escape to the
	// store interface.
	cc.key, ok = cache.MakeKey(c.req.Body, parts[:n]...)
	if !ok {
		sc.Bypasses.Add(1)
		h.Set("X-Llmedge-Cache", cacheBypass)
		c.obs.SetCache(cacheBypass)
		return false
	}
	h.SetBytesV("X-Litellm-Cache-Key", cc.key.Hex(cc.hexKey[:0]))
	now := time.Now()
	state := cacheMiss
	if cc.ctl.NoCache {
		state = cacheBypass
	} else {
		e, down := sc.Get(&cc.key, now, cc.ctl.MaxAge)
		if down {
			state = cacheBypass
		} else if e = fitEntry(e, c); e != nil {
			s.serveHit(ctx, c, sc, e, now)
			return true
		}
	}
	form := uint8(0)
	if c.req.Stream {
		form |= 1
	}
	if c.fields.IncludeUsage {
		form |= 2
	}
	fk := cache.FlightKey{Key: cc.key, Form: form}
	var f *cache.Flight
	leader := true
	if cc.ctl.NoCache {
		f = sc.Flights.Solo(fk)
	} else {
		f, leader = sc.Flights.Join(fk)
	}
	if leader {
		startDriver(newCacheDriver(sn, c, g, f, state == cacheMiss && !cc.ctl.NoStore))
	} else {
		state = cacheHit
		sc.Coalesced.Add(1)
	}
	switch state {
	case cacheHit:
		sc.Hits.Add(1)
	case cacheMiss:
		sc.Misses.Add(1)
	default:
		sc.Bypasses.Add(1)
	}
	h.Set("X-Llmedge-Cache", state)
	c.obs.SetCache(state)
	s.serveFlight(ctx, sn, c, f, leader)
	return true
}

// fitEntry returns e in the form c wants (nil: e cannot serve c, a
// miss): a chat answer converts between stream and JSON; a stream
// stored without the usage chunk cannot serve a client asking for it.
func fitEntry(e *cache.Entry, c *call) *cache.Entry {
	if e == nil {
		return nil
	}
	want := cache.KindJSON
	if c.req.Stream {
		want = cache.KindStream
	}
	if e.Kind != want {
		if c.req.Route != upstream.RouteChat {
			return nil
		}
		var ok bool
		if want == cache.KindJSON {
			e, ok = cache.ChatToJSON(e)
		} else {
			e, ok = cache.ChatToStream(e)
		}
		if !ok {
			return nil
		}
	}
	if want == cache.KindStream && c.fields.IncludeUsage && e.UsageEvent < 0 && c.req.Route != upstream.RouteResponses {
		return nil
	}
	return e
}

// serveHit answers c from a stored entry: no upstream call, no upstream
// tokens (the rate limits count the request and settle zero tokens).
func (s *Server) serveHit(ctx *fasthttp.RequestCtx, c *call, sc *cache.Cache, e *cache.Entry, now time.Time) {
	sc.Hits.Add(1)
	sc.SavedTokens.Add(e.Tokens)
	ctx.Response.Header.Set("X-Llmedge-Cache", cacheHit)
	ctx.Response.Header.SetCanonical(hdrRequestID, c.reqID)
	c.obs.SetCache(cacheHit)
	resp := upstream.AcquireResponse()
	resp.Usage.Reported = true // zero upstream tokens
	cs := &c.cache.stream
	cs.rp.Reset(e, !c.fields.IncludeUsage, now)
	if e.Kind == cache.KindJSON {
		resp.StatusCode = fasthttp.StatusOK
		resp.ContentType = append(resp.ContentType[:0], e.ContentType...)
		resp.Body = cs.rp.AppendBody(resp.Body[:0])
		sc.ServedBytes.Add(int64(len(resp.Body)))
		s.answer(ctx, c, resp)
		return
	}
	cs.sc, cs.f, cs.resp, cs.replay = sc, nil, resp, true
	resp.Stream = cs
	s.answer(ctx, c, resp)
}

// flightInfo is what the driver of a shared call learned, for the
// client that started it (its metrics, access log and token limits).
type flightInfo struct {
	deployment   *upstream.Deployment
	attempts     int
	usage        upstream.Usage
	upstreamWait time.Duration
	status       int
}

func (fi *flightInfo) applyTo(resp *upstream.Response) {
	resp.Deployment, resp.Attempts, resp.Usage = fi.deployment, fi.attempts, fi.usage
	resp.Usage.Reported = true
	resp.UpstreamWait = fi.upstreamWait
}

// errClientLeft is the 499 a client gets (in the log) when it left
// before the shared call answered.
var errClientLeft = &upstream.Error{Status: 499, Type: "api_error", Code: "client_closed_request",
	Message: "the client closed the request before the answer"}

// serveFlight answers c from the flight f once it has an answer.
func (s *Server) serveFlight(ctx *fasthttp.RequestCtx, sn *snapshot, c *call, f *cache.Flight, leader bool) {
	resp := upstream.AcquireResponse()
	ctx.Response.Header.SetCanonical(hdrRequestID, c.reqID)
	if !f.WaitHead(c.cancel.Done()) {
		f.Leave()
		s.writeUpstreamError(ctx, sn, errClientLeft)
		s.finish(c, resp)
		return
	}
	r := f.Look(0)
	fi, _ := r.Info.(*flightInfo)
	if leader && fi != nil {
		fi.applyTo(resp)
		c.obs.Answered(resp)
		if fi.deployment != nil {
			ctx.Response.Header.SetCanonical(hdrModelID, viewBytes(fi.deployment.ID))
		}
		ctx.Response.Header.SetCanonical(hdrAttempts, viewBytes(itoa(fi.attempts)))
	} else {
		resp.Usage.Reported = true
	}
	if r.Failure != nil {
		f.Leave()
		var ue *upstream.Error
		if err, ok := r.Failure.(error); ok && errors.As(err, &ue) {
			s.writeUpstreamError(ctx, sn, ue)
		} else {
			writeError(ctx, fasthttp.StatusBadGateway, "upstream failure", "api_error", "", "upstream_error")
		}
		s.finish(c, resp)
		return
	}
	cs := &c.cache.stream
	if r.Body != nil {
		f.Leave()
		resp.StatusCode = fasthttp.StatusOK
		if fi != nil && fi.status != 0 {
			resp.StatusCode = fi.status
		}
		resp.ContentType = append(resp.ContentType[:0], r.ContentType...)
		if leader {
			resp.Body = append(resp.Body[:0], r.Body...)
		} else {
			cs.rp.Reset(cache.JSONEntry(r.ContentType, r.Body), false, time.Now())
			resp.Body = cs.rp.AppendBody(resp.Body[:0])
		}
		s.answer(ctx, c, resp)
		return
	}
	cs.sub = cache.Subscriber{F: f, Stop: c.cancel.Done(), Fresh: !leader}
	cs.sc, cs.f, cs.resp, cs.replay, cs.leader = sn.cache, f, resp, false, leader
	resp.Stream = cs
	s.answer(ctx, c, resp)
}

// cacheStream is the upstream.Stream of a cached or shared stream: a
// stored entry's replay, or the events of a flight as they come.
type cacheStream struct {
	sc     *cache.Cache
	rp     cache.Replay
	sub    cache.Subscriber
	f      *cache.Flight
	resp   *upstream.Response
	replay bool
	leader bool
	w      countWriter
}

// countWriter counts the bytes a replay writes (served bytes metric).
type countWriter struct {
	w upstream.Writer
	n int64
}

func (cw *countWriter) Write(p []byte) (int, error) { cw.n += int64(len(p)); return cw.w.Write(p) }
func (cw *countWriter) Flush() error                { return cw.w.Flush() }

// Relay implements upstream.Stream.
func (cs *cacheStream) Relay(w upstream.Writer) error {
	if cs.replay {
		cs.w = countWriter{w: w}
		err := cs.rp.Relay(&cs.w)
		cs.sc.ServedBytes.Add(cs.w.n)
		cs.rp.Release()
		if err != nil {
			return upstream.ErrClientGone
		}
		return nil
	}
	err := cs.sub.Relay(w)
	cs.f.Leave()
	if cs.leader {
		// The call's usage and deployment are the leader's to account:
		// wait for the call to end (it is canceled if this was the last
		// client).
		if fi, _ := cs.f.WaitDone().Info.(*flightInfo); fi != nil {
			fi.applyTo(cs.resp)
		}
	}
	cs.sub = cache.Subscriber{}
	cs.f = nil
	if errors.Is(err, cache.ErrLeft) {
		return upstream.ErrClientGone
	}
	return err // nil, or the call's own failure (its error event was sent)
}
