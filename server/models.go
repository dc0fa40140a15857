package server

import (
	"slices"
	"strconv"

	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// buildModelsJSON renders GET /v1/models once: one entry per model_name.
func buildModelsJSON(reg *upstream.Registry, created int64) []byte {
	return buildModelsJSONFor(reg, created, nil)
}

// buildModelsJSONFor lists the models allow accepts (nil: all).
func buildModelsJSONFor(reg *upstream.Registry, created int64, allow func(name string) bool) []byte {
	b := []byte(`{"object":"list","data":[`)
	n := 0
	type entry struct {
		name string
		g    *upstream.Group
	}
	entries := make([]entry, 0, len(reg.Groups()))
	for _, g := range reg.Groups() {
		if g.Name == "*" {
			continue // the catch-all is not a model a client can pick
		}
		entries = append(entries, entry{g.Name, g})
	}
	// model_group_alias names are listed unless hidden, as in LiteLLM.
	for _, a := range reg.Aliases() {
		if !a.Hidden && !slices.ContainsFunc(entries, func(e entry) bool { return e.name == a.Name }) {
			entries = append(entries, entry{a.Name, a.Group})
		}
	}
	for _, e := range entries {
		g := e.g
		if allow != nil && !allow(e.name) {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		owner := "llmedge"
		if len(g.Deployments) > 0 && g.Deployments[0].Provider != "" {
			owner = g.Deployments[0].Provider
		}
		b = append(b, `{"id":`...)
		b = appendJSONString(b, e.name)
		b = append(b, `,"object":"model","created":`...)
		b = strconv.AppendInt(b, created, 10)
		b = append(b, `,"owned_by":`...)
		b = appendJSONString(b, owner)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

func (s *Server) handleModels(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.SetContentType("application/json")
	sn := s.current()
	body := sn.modelsJSON
	switch k := sn.auth.identify(&ctx.Request.Header); {
	case k == nil || k.all:
	case k.modelsJSON != nil:
		body = k.modelsJSON // a key limited to some models lists only those
	case k.entry != nil:
		// A database key outlives snapshots (dbkeys.go): its list is
		// drawn from the registry in force, when asked.
		body = buildModelsJSONFor(sn.reg, s.started.Unix(), func(name string) bool { return k.allows([]byte(name)) })
	}
	ctx.Response.SetBodyRaw(body)
}

func appendJSONString(dst []byte, s string) []byte { return jsonx.AppendString(dst, s) }
