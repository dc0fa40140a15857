package server

import (
	"strings"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// collectSecrets lists every secret the config holds: the master key,
// api_keys, the Redis password, and each deployment's api_key and other
// credential-like litellm_params (aws_secret_access_key,
// vertex_credentials, ...). Upstream error text is scrubbed of all of
// them (and of anything shaped like a provider key) before a client
// sees it: an upstream may echo one deployment's key in an error about
// another, or a misconfigured api_base may point one provider's key at
// another's error page.
func collectSecrets(cfg *config.Config, st edgeSettings) []string {
	var out []string
	add := func(s string) {
		if len(s) >= 6 {
			out = append(out, s)
		}
	}
	add(cfg.General.MasterKey)
	for _, k := range st.keys {
		add(k.key)
	}
	for _, p := range st.redis.Secrets() {
		add(p)
	}
	for _, d := range cfg.Deployments {
		add(d.APIKey)
		for k, v := range d.Params {
			s, ok := v.(string)
			if !ok || looksLikePath(s) {
				continue
			}
			lk := strings.ToLower(k)
			for _, w := range []string{"key", "secret", "token", "password", "credential"} {
				if strings.Contains(lk, w) {
					add(s)
					break
				}
			}
		}
		for _, h := range d.ExtraHeaders {
			lh := strings.ToLower(h.Name)
			if strings.Contains(lh, "auth") || strings.Contains(lh, "key") || strings.Contains(lh, "token") {
				add(h.Value)
			}
		}
	}
	return out
}

// writeUpstreamError answers with an upstream failure, scrubbed. A
// transport failure's full text (socket addresses, the upstream's
// garbled bytes), which the client's message leaves out, goes to the
// log, scrubbed too.
func (s *Server) writeUpstreamError(ctx *fasthttp.RequestCtx, sn *snapshot, e *upstream.Error) {
	if e.Detail != "" {
		s.opts.Logger.Warn("upstream failure", "request_id", string(ctx.Response.Header.Peek("X-Request-Id")),
			"detail", string(upstream.ScrubSecrets([]byte(e.Detail), sn.edge.secrets)))
	}
	ctx.Response.Header.SetContentType("application/json")
	status := e.Status
	if status == 499 {
		// The client is gone; nothing will read this.
		ctx.SetConnectionClose()
	}
	ctx.SetStatusCode(status)
	if len(e.RetryAfter) > 0 {
		ctx.Response.Header.SetBytesV("Retry-After", e.RetryAfter)
	}
	ctx.Response.SetBodyRaw(upstream.ScrubSecrets(e.AppendJSON(ctx.Response.Body()[:0]), sn.edge.secrets))
}

// looksLikePath tells a credentials file name (vertex_credentials:
// /etc/gcp.json) from an inline credential: the name is not secret and
// error messages naming it must stay readable.
func looksLikePath(s string) bool {
	return strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "~") ||
		(strings.HasSuffix(s, ".json") && !strings.Contains(s, "{"))
}
