package upstream

import (
	"fmt"
	"strings"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/provider"
)

// modeRoutes is what a model_info.mode allows. A chat model serves the
// Responses API too (OpenAI serves every chat model there) and legacy
// completions (vLLM and friends do); a responses-only model (codex) does
// not serve chat, an embedding model serves embeddings only. Modes of
// other APIs (image_generation, rerank, ...) serve none of these routes;
// an unknown or absent mode restricts nothing.
var modeRoutes = map[string]provider.Routes{
	"chat":                provider.RoutesOf(RouteChat, RouteCompletions, RouteResponses),
	"completion":          provider.RoutesOf(RouteCompletions),
	"embedding":           provider.RoutesOf(RouteEmbeddings),
	"responses":           provider.RoutesOf(RouteResponses),
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
func (d *Deployment) initRoutes(cd *config.Deployment, p *provider.Descriptor) (warning string) {
	routes, widens := provider.RoutesChatOnly, false
	if p != nil {
		routes, widens = p.Routes, p.OpenAICompatible
	}
	d.mode, _ = cd.ModelInfo["mode"].(string)
	d.mode = strings.ToLower(strings.TrimSpace(d.mode))
	d.routes = routes
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
		d.routes |= provider.RoutesOf(primary)
	}
	d.translateResponses()
	return ""
}

// translateResponses decides how d serves the Responses API: natively
// where its provider has one and model_info.mode does not say "chat",
// else translated to chat (responses_chat.go) wherever it serves chat.
func (d *Deployment) translateResponses() {
	d.nativeResponses = d.routes.Has(RouteResponses) && d.mode != "chat"
	if d.routes.Has(RouteChat) {
		d.routes |= provider.RoutesOf(RouteResponses)
	}
}

// routeError is the 400 for a route d cannot serve, naming the model,
// the route and why; nil when d serves it.
func (d *Deployment) routeError(r Route) *Error {
	if d.routes.Has(r) {
		return nil
	}
	var msg string
	if allowed, known := modeRoutes[d.mode]; known && !allowed.Has(r) {
		msg = fmt.Sprintf("model %q has model_info.mode %q: it does not serve %s", d.ModelName, d.mode, r)
		if mr, ok := modeRoute[d.mode]; ok {
			msg += "; call " + mr.String()
		}
	} else {
		name := d.Provider
		if name == "" {
			name = d.Config.Model
		}
		msg = fmt.Sprintf("model %q (provider %q) does not serve %s: llmedge passes this route only to providers whose API has it", d.ModelName, name, r)
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
		if d.routes.Has(r) {
			return true
		}
	}
	return false
}
