package provider

import (
	"strings"
	"unsafe"

	"github.com/llmedge/llmedge/config"
	"github.com/valyala/fasthttp"
)

// The head of an upstream request that is the same for every request
// of an endpoint's route: method, request target, Host, credentials,
// extra_headers and Content-Type. Built once with the very calls a
// request would make (so the bytes on the wire are the same), it is
// copied into each request instead of being rebuilt: no URL parse, no
// header name normalized, no value scrubbed per request. What changes
// per request (x-request-id, trace context, user id, the body) is
// added after the copy, in the order it always had.

// InitRequestHeads builds the request heads of the routes in served
// (the chat route always). Call it once d's address, credentials and
// headers are final (the registry does, after Build and BuildOptions).
// An endpoint without heads, or a request its heads do not fit, is
// built field by field (StartRequest reports which).
func (d *Endpoint) InitRequestHeads(served Routes) {
	d.heads = nil
	if d.Token != nil || d.URI == "" || hasSpecialHeader(d.Headers) {
		// A per-request token; or an extra header fasthttp treats as
		// part of the request's framing or target (Host: the target
		// would then be written in absolute form).
		return
	}
	var heads [NumRoutes]*fasthttp.RequestHeader
	built := false
	for r := Route(0); r < NumRoutes; r++ {
		s := r.Spec()
		if s.ByID || d.URIs[r] == "" || (r != RouteChat && !served.Has(r)) {
			continue
		}
		if h := d.buildHead(r); h != nil {
			heads[r], built = h, true
		}
	}
	if built {
		d.heads = &heads
	}
}

// buildHead is route r's head, or nil when its URL is one that
// fasthttp's writer would complete per request (user info becomes an
// Authorization header).
func (d *Endpoint) buildHead(r Route) *fasthttp.RequestHeader {
	var u fasthttp.URI
	if err := u.Parse(nil, []byte(d.URIs[r])); err != nil || len(u.Host()) == 0 || len(u.Username()) > 0 || len(u.Password()) > 0 {
		return nil
	}
	h := new(fasthttp.RequestHeader)
	h.SetMethod(r.Spec().Method)
	// What fasthttp's Request.Write derives from an absolute URI: the
	// normalized path and query, and the Host.
	h.SetRequestURIBytes(u.RequestURI())
	h.SetHostBytes(u.Host())
	if d.Auth != nil {
		if d.AuthHeader != "" {
			h.SetBytesV(d.AuthHeader, d.Auth)
		} else {
			h.SetBytesV("Authorization", d.Auth)
		}
	}
	for _, x := range d.Headers {
		h.Set(x.Name, x.Value)
	}
	h.SetContentType("application/json")
	return h
}

// hasSpecialHeader reports whether headers name one that fasthttp keeps
// outside the plain header list in a way a copied head would not
// reproduce byte for byte.
func hasSpecialHeader(headers []config.Header) bool {
	for _, x := range headers {
		switch strings.ToLower(strings.TrimSpace(x.Name)) {
		case "host", "cookie", "connection", "content-length", "transfer-encoding", "trailer":
			return true
		}
	}
	return false
}

// StartRequest resets ureq to the head of req's route and reports
// whether it did; when not (no head for the route, a by-id route or a
// query string), the caller builds the request field by field
// (SetRequestURI, SetAuth, Headers).
func (d *Endpoint) StartRequest(ureq *fasthttp.Request, req *Request) bool {
	ureq.Reset()
	if d.heads == nil || len(req.Query) > 0 {
		return false
	}
	r := req.Route
	if r >= NumRoutes {
		r = RouteChat
	}
	h := d.heads[r]
	if h == nil {
		return false
	}
	h.CopyTo(&ureq.Header)
	return true
}

// Canonical names of the headers set per request (SetCanonical takes
// them as they are: no normalizing pass).
var (
	hdrRequestID   = []byte("X-Request-Id")
	hdrUserID      = []byte("X-Sm-User-Id")
	hdrTraceparent = []byte("Traceparent")
	hdrTracestate  = []byte("Tracestate")
)

// SetRequestID sets x-request-id on an upstream request (SetCanonical:
// the value is still scrubbed of CR and LF).
func SetRequestID(h *fasthttp.RequestHeader, id []byte) { h.SetCanonical(hdrRequestID, id) }

// SetUserID sets x-sm-user-id on an upstream request.
func SetUserID(h *fasthttp.RequestHeader, id []byte) { h.SetCanonical(hdrUserID, id) }

// SetCanonicalString sets the header of canonical name key to v.
func SetCanonicalString(h *fasthttp.RequestHeader, key []byte, v string) {
	h.SetCanonical(key, stringBytes(v))
}

// stringBytes views s as bytes for a fasthttp setter that copies them.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
