package server

import (
	"github.com/fasthttp/router"
	"github.com/llmedge/llmedge/server/request"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// ModelHeader names the model a request without a body goes to
// (GET, DELETE /v1/responses/{id}, its /cancel and /input_items). The query parameter "model" does
// the same for clients that cannot set headers; without either, the
// first model in config order that serves the Responses API is used.
const ModelHeader = "X-Llmedge-Model"

const maxResponseID = 256

var (
	errResponseID = &request.Error{Param: "response_id", Msg: "response id must be 1 to 256 letters, digits, '_', '-' or '.'"}
	errNoResponse = &request.Error{Param: "model", Msg: "no model serves the Responses API: configure an openai/ deployment, or name the model in the " + ModelHeader + " header or the model query parameter"}
)

// routeResponses serves the Responses API: POST /v1/responses (JSON or
// SSE with named events, relayed unchanged), GET / DELETE
// /v1/responses/{id}, POST /v1/responses/{id}/cancel and GET
// /v1/responses/{id}/input_items.
func (s *Server) routeResponses(r *router.Router) {
	create := func(ctx *fasthttp.RequestCtx) { s.serveRoute(ctx, upstream.RouteResponses) }
	get := func(ctx *fasthttp.RequestCtx) { s.serveRoute(ctx, upstream.RouteResponseGet) }
	del := func(ctx *fasthttp.RequestCtx) { s.serveRoute(ctx, upstream.RouteResponseDelete) }
	cancel := func(ctx *fasthttp.RequestCtx) { s.serveRoute(ctx, upstream.RouteResponseCancel) }
	items := func(ctx *fasthttp.RequestCtx) { s.serveRoute(ctx, upstream.RouteResponseInputItems) }
	for _, p := range []string{"/v1/responses", "/responses"} {
		r.POST(p, create)
		r.GET(p+"/{id}", get)
		r.DELETE(p+"/{id}", del)
		r.POST(p+"/{id}/cancel", cancel)
		r.GET(p+"/{id}/input_items", items)
	}
}

// scanResponseRef reads a by-id request: the response id from the path,
// the model from the x-llmedge-model header, the model query parameter
// (or a JSON body's "model") or the config's first Responses model, and
// stream=true from the query. The query string goes upstream without
// "model". openai-go's GetStreaming sends {"stream":true} as a GET body
// instead of the documented query parameter: it is moved to the query.
func (s *Server) scanResponseRef(ctx *fasthttp.RequestCtx, sn *snapshot, c *call) *request.Error {
	c.fields = request.Fields{}
	id, _ := ctx.UserValue("id").(string)
	if !validResponseID(id) {
		return errResponseID
	}
	c.route.id = append(c.route.id, id...)
	args := ctx.QueryArgs()
	var inBody request.Fields
	if body := ctx.PostBody(); len(body) > 0 {
		if err := request.ScanChat(body, &inBody); err != nil && err != request.ErrNoModel {
			return err
		}
	}
	model := ctx.Request.Header.Peek(ModelHeader)
	if len(model) == 0 {
		model = args.Peek("model")
	}
	if len(model) == 0 {
		model = inBody.Model
	}
	if len(model) == 0 {
		model = firstModelServing(sn, upstream.RouteResponses)
		if model == nil {
			return errNoResponse
		}
	}
	c.fields.Model = model
	c.fields.NoOutput = true // reads or stops a stored response
	c.fields.Stream = string(args.Peek("stream")) == "true"
	bodyStream := inBody.Stream && !args.Has("stream")
	if args.Has("model") || bodyStream {
		var a fasthttp.Args
		args.CopyTo(&a)
		a.Del("model")
		if bodyStream {
			a.Set("stream", "true")
			c.fields.Stream = true
		}
		c.route.query = a.AppendBytes(nil)
	} else {
		c.route.query = ctx.URI().QueryString()
	}
	return nil
}

// firstModelServing is the first model_name, in config order, with a
// deployment that serves route, in the request's config snapshot; nil
// when none does.
func firstModelServing(sn *snapshot, route upstream.Route) []byte {
	for _, g := range sn.reg.Groups() {
		if g.Serves(route) {
			return []byte(g.Name)
		}
	}
	return nil
}

// validResponseID accepts the ids OpenAI-compatible servers issue
// ("resp_..."): nothing that could change the upstream path.
func validResponseID(id string) bool {
	if len(id) == 0 || len(id) > maxResponseID {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return id != "." && id != ".."
}
