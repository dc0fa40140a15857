package upstream

import (
	"fmt"
	"strings"

	"github.com/llmedge/llmedge/config"
	"github.com/valyala/fasthttp"
)

// Route is the OpenAI endpoint a request is for. The zero value is chat,
// so code written before routes existed keeps meaning chat.
type Route uint8

// Routes llmedge passes through. The ones "by id" name a stored
// response in the path and carry no body.
const (
	RouteChat               Route = iota // POST /v1/chat/completions
	RouteCompletions                     // POST /v1/completions (legacy)
	RouteEmbeddings                      // POST /v1/embeddings
	RouteResponses                       // POST /v1/responses
	RouteResponseGet                     // GET /v1/responses/{id}
	RouteResponseDelete                  // DELETE /v1/responses/{id}
	RouteResponseCancel                  // POST /v1/responses/{id}/cancel
	RouteResponseInputItems              // GET /v1/responses/{id}/input_items
	numRoutes
)

type routeSpec struct {
	method string
	// path is appended to the deployment's api_base; by-id routes append
	// "/{id}" and suffix to it.
	path, suffix string
	// family is the route whose support decides this one (GET and DELETE
	// of a response need a deployment that serves the Responses API).
	family Route
	byID   bool
	// named: the route streams named events ("event: response.created")
	// and ends without "data: [DONE]".
	named bool
}

var routeSpecs = [numRoutes]routeSpec{
	RouteChat:               {fasthttp.MethodPost, "/chat/completions", "", RouteChat, false, false},
	RouteCompletions:        {fasthttp.MethodPost, "/completions", "", RouteCompletions, false, false},
	RouteEmbeddings:         {fasthttp.MethodPost, "/embeddings", "", RouteEmbeddings, false, false},
	RouteResponses:          {fasthttp.MethodPost, "/responses", "", RouteResponses, false, true},
	RouteResponseGet:        {fasthttp.MethodGet, "/responses", "", RouteResponses, true, true},
	RouteResponseDelete:     {fasthttp.MethodDelete, "/responses", "", RouteResponses, true, true},
	RouteResponseCancel:     {fasthttp.MethodPost, "/responses", "/cancel", RouteResponses, true, true},
	RouteResponseInputItems: {fasthttp.MethodGet, "/responses", "/input_items", RouteResponses, true, true},
}

func (r Route) spec() *routeSpec {
	if r >= numRoutes {
		return &routeSpecs[RouteChat]
	}
	return &routeSpecs[r]
}

// String is the route as a client calls it, e.g. "POST /v1/embeddings".
func (r Route) String() string {
	s := r.spec()
	if s.byID {
		return s.method + " /v1" + s.path + "/{id}" + s.suffix
	}
	return s.method + " /v1" + s.path
}

// HasBody reports whether the route's requests carry a JSON body with a
// "model" field.
func (r Route) HasBody() bool { return !r.spec().byID }

// routeSet is a set of route families.
type routeSet uint8

func routesOf(rs ...Route) routeSet {
	var s routeSet
	for _, r := range rs {
		s |= 1 << r
	}
	return s
}

func (s routeSet) has(r Route) bool { return s&(1<<r.spec().family) != 0 }

var (
	routesOpenAICompatible = routesOf(RouteChat, RouteCompletions, RouteEmbeddings)
	routesAll              = routesOf(RouteChat, RouteCompletions, RouteEmbeddings, RouteResponses)
	routesChatOnly         = routesOf(RouteChat)
)

// modeRoutes is what a model_info.mode allows. A chat model serves the
// Responses API too (OpenAI serves every chat model there) and legacy
// completions (vLLM and friends do); a responses-only model (codex) does
// not serve chat, an embedding model serves embeddings only. Modes of
// other APIs (image_generation, rerank, ...) serve none of these routes;
// an unknown or absent mode restricts nothing.
var modeRoutes = map[string]routeSet{
	"chat":                routesOf(RouteChat, RouteCompletions, RouteResponses),
	"completion":          routesOf(RouteCompletions),
	"embedding":           routesOf(RouteEmbeddings),
	"responses":           routesOf(RouteResponses),
	"image_generation":    0,
	"image_edit":          0,
	"audio_transcription": 0,
	"audio_speech":        0,
	"moderation":          0,
	"moderations":         0,
	"rerank":              0,
	"video_generation":    0,
	"ocr":                 0,
	"search":              0,
	"realtime":            0,
	"batch":               0,
}

// modeRoute names the route a mode is for, for error messages.
var modeRoute = map[string]Route{
	"chat":       RouteChat,
	"completion": RouteCompletions,
	"embedding":  RouteEmbeddings,
	"responses":  RouteResponses,
}

// initRoutes decides which routes d serves from its provider p (nil:
// not served) and model_info.mode. On an OpenAI-compatible provider an explicit mode's
// own route is served even where the provider table says no (the
// operator knows what their model is): mode "embedding" on a provider
// listed without embeddings still serves embeddings. A mode llmedge
// does not know restricts nothing and is returned as a warning.
func (d *Deployment) initRoutes(cd *config.Deployment, p *provider) (warning string) {
	provider, widens := routesChatOnly, false
	if p != nil {
		provider, widens = p.routes, p.openAICompatible
	}
	d.mode, _ = cd.ModelInfo["mode"].(string)
	d.mode = strings.ToLower(strings.TrimSpace(d.mode))
	d.routes = provider
	allowed, known := modeRoutes[d.mode]
	if !known {
		d.translateResponses()
		if d.mode != "" {
			warning = fmt.Sprintf("deployment %s (model_name %q): model_info.mode %q is not one llmedge knows (chat, completion, embedding, responses, ...): it restricts no route", d.ID, d.ModelName, d.mode)
		}
		return warning
	}
	d.routes &= allowed
	if primary, ok := modeRoute[d.mode]; ok && widens {
		d.routes |= routesOf(primary)
	}
	d.translateResponses()
	return ""
}

// translateResponses decides how d serves the Responses API: natively
// where its provider has one and model_info.mode does not say "chat",
// else translated to chat (responses_chat.go) wherever it serves chat.
func (d *Deployment) translateResponses() {
	d.nativeResponses = d.routes.has(RouteResponses) && d.mode != "chat"
	if d.routes.has(RouteChat) {
		d.routes |= routesOf(RouteResponses)
	}
}

// initRouteURIs sets the upstream URL of every route from api_base: the
// base without a trailing "/chat/completions", plus the route's path.
func (d *Deployment) initRouteURIs(base string) {
	base = strings.TrimSuffix(strings.TrimRight(base, "/"), "/chat/completions")
	for r := Route(0); r < numRoutes; r++ {
		s := r.spec()
		u := base + s.path
		if s.byID {
			u += "/"
		}
		d.uris[r] = u
	}
	d.uris[RouteChat] = d.uri
}

// setRequestURI points ureq at the upstream URL for req's route.
func (d *Deployment) setRequestURI(ureq *fasthttp.Request, req *ChatRequest) {
	r := req.Route
	if r >= numRoutes {
		r = RouteChat
	}
	if !r.spec().byID && len(req.Query) == 0 {
		ureq.SetRequestURI(d.uris[r])
		return
	}
	var buf [256]byte
	b := append(buf[:0], d.uris[r]...)
	if s := r.spec(); s.byID {
		b = append(b, req.ResponseID...)
		b = append(b, s.suffix...)
	}
	if len(req.Query) > 0 {
		b = append(b, '?')
		b = append(b, req.Query...)
	}
	ureq.SetRequestURIBytes(b)
}

// routeError is the 400 for a route d cannot serve, naming the model,
// the route and why; nil when d serves it.
func (d *Deployment) routeError(r Route) *Error {
	if d.routes.has(r) {
		return nil
	}
	var msg string
	if allowed, known := modeRoutes[d.mode]; known && !allowed.has(r) {
		msg = fmt.Sprintf("model %q has model_info.mode %q: it does not serve %s", d.ModelName, d.mode, r)
		if mr, ok := modeRoute[d.mode]; ok {
			msg += "; call " + mr.String()
		}
	} else {
		provider := d.Provider
		if provider == "" {
			provider = d.Config.Model
		}
		msg = fmt.Sprintf("model %q (provider %q) does not serve %s: llmedge passes this route only to providers whose API has it", d.ModelName, provider, r)
	}
	return &Error{Status: 400, Type: "invalid_request_error", Param: "model", Code: "route_not_supported", Message: msg}
}

// RouteError is the 400 for a request of route r to a group none of
// whose deployments serves r (explained by its first deployment); nil
// when at least one does.
func (g *Group) RouteError(r Route) *Error {
	if g.Serves(r) || len(g.Deployments) == 0 {
		return nil
	}
	return g.Deployments[0].routeError(r)
}

// Serves reports whether some deployment of g serves r.
func (g *Group) Serves(r Route) bool {
	for _, d := range g.Deployments {
		if d.routes.has(r) {
			return true
		}
	}
	return false
}
