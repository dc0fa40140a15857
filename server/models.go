package server

import (
	"strconv"

	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// buildModelsJSON renders GET /v1/models once: one entry per model_name.
func buildModelsJSON(reg *upstream.Registry, created int64) []byte {
	b := []byte(`{"object":"list","data":[`)
	for i, g := range reg.Groups() {
		if i > 0 {
			b = append(b, ',')
		}
		owner := "llmedge"
		if len(g.Deployments) > 0 && g.Deployments[0].Provider != "" {
			owner = g.Deployments[0].Provider
		}
		b = append(b, `{"id":`...)
		b = appendJSONString(b, g.Name)
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
	ctx.Response.SetBodyRaw(s.current().modelsJSON)
}

func appendJSONString(dst []byte, s string) []byte { return upstream.AppendJSONString(dst, s) }
