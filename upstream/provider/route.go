package provider

import "github.com/valyala/fasthttp"

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
	NumRoutes
)

// RouteSpec is what a route is on the wire.
type RouteSpec struct {
	Method string
	// Path is appended to the deployment's api_base; by-id routes append
	// "/{id}" and Suffix to it.
	Path, Suffix string
	// Family is the route whose support decides this one (GET and DELETE
	// of a response need a deployment that serves the Responses API).
	Family Route
	ByID   bool
	// Named: the route streams named events ("event: response.created")
	// and ends without "data: [DONE]".
	Named bool
}

var routeSpecs = [NumRoutes]RouteSpec{
	RouteChat:               {fasthttp.MethodPost, "/chat/completions", "", RouteChat, false, false},
	RouteCompletions:        {fasthttp.MethodPost, "/completions", "", RouteCompletions, false, false},
	RouteEmbeddings:         {fasthttp.MethodPost, "/embeddings", "", RouteEmbeddings, false, false},
	RouteResponses:          {fasthttp.MethodPost, "/responses", "", RouteResponses, false, true},
	RouteResponseGet:        {fasthttp.MethodGet, "/responses", "", RouteResponses, true, true},
	RouteResponseDelete:     {fasthttp.MethodDelete, "/responses", "", RouteResponses, true, true},
	RouteResponseCancel:     {fasthttp.MethodPost, "/responses", "/cancel", RouteResponses, true, true},
	RouteResponseInputItems: {fasthttp.MethodGet, "/responses", "/input_items", RouteResponses, true, true},
}

// Spec is r's wire description (chat's for an unknown route).
func (r Route) Spec() *RouteSpec {
	if r >= NumRoutes {
		return &routeSpecs[RouteChat]
	}
	return &routeSpecs[r]
}

// String is the route as a client calls it, e.g. "POST /v1/embeddings".
func (r Route) String() string {
	s := r.Spec()
	if s.ByID {
		return s.Method + " /v1" + s.Path + "/{id}" + s.Suffix
	}
	return s.Method + " /v1" + s.Path
}

// HasBody reports whether the route's requests carry a JSON body with a
// "model" field.
func (r Route) HasBody() bool { return !r.Spec().ByID }

// Routes is a set of route families.
type Routes uint8

// RoutesOf is the set of rs.
func RoutesOf(rs ...Route) Routes {
	var s Routes
	for _, r := range rs {
		s |= 1 << r
	}
	return s
}

// Has reports whether s holds r's family.
func (s Routes) Has(r Route) bool { return s&(1<<r.Spec().Family) != 0 }

// The route sets most providers have.
var (
	RoutesOpenAICompatible = RoutesOf(RouteChat, RouteCompletions, RouteEmbeddings)
	RoutesAll              = RoutesOf(RouteChat, RouteCompletions, RouteEmbeddings, RouteResponses)
	RoutesChatOnly         = RoutesOf(RouteChat)
)
