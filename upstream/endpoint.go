package upstream

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/llmedge/llmedge/config"
	"github.com/valyala/fasthttp"
)

// endpointExtras is what a deployment of a per-deployment provider needs
// beyond the OpenAI-compatible fields of Deployment.
type endpointExtras struct {
	// authHeader names the header d.auth is sent in ("" = Authorization).
	authHeader string
	// token, when set, yields the Authorization value per request
	// (Vertex: a cached, refreshed Google OAuth access token).
	token func() ([]byte, error)
	// lastToken is the token last handed out, scrubbed like a key.
	lastToken func() string
	// streamURI is the streaming endpoint when it differs from the
	// deployment's URI (Claude on Vertex: :streamRawPredict).
	streamURI string
	// bedrock is set for bedrock/ deployments.
	bedrock *bedrockEndpoint
}

// setEndpoint points d at rawURL: request URI, Host and connection pool.
func (r *Registry) setEndpoint(d *Deployment, rawURL, errPath string) *config.Error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &config.Error{Path: errPath, Msg: "must be an http:// or https:// URL"}
	}
	d.uri = u.String()
	d.host = u.Host
	// The chat URI is the deployment's; providers serving more routes
	// set theirs after (initRouteURIs, azure.go).
	d.uris[RouteChat] = d.uri
	addr := u.Host
	if u.Port() == "" {
		if u.Scheme == "https" {
			addr += ":443"
		} else {
			addr += ":80"
		}
	}
	d.pool, d.readTimeout = r.deploymentPool(d.Config, addr, u.Scheme == "https")
	return nil
}

// unavailableBecause marks d unavailable (503) with a startup warning.
func (r *Registry) unavailableBecause(d *Deployment, code, why string) {
	if d.unavailable != "" {
		return
	}
	d.unavailable = fmt.Sprintf("model %q is unavailable: %s", d.ModelName, why)
	d.unavailableStatus, d.unavailableCode = 503, code
	r.warnings = append(r.warnings, fmt.Sprintf("deployment %s (model_name %q): %s; requests for it will get 503", d.ID, d.ModelName, why))
}

// unsupportedBecause marks d unavailable (501): llmedge cannot serve
// what the entry asks for.
func (r *Registry) unsupportedBecause(d *Deployment, why string) {
	if d.unavailable != "" {
		return
	}
	d.unavailable = fmt.Sprintf("model %q is unavailable: %s", d.ModelName, why)
	d.unavailableStatus, d.unavailableCode = 501, "provider_not_supported"
	r.warnings = append(r.warnings, fmt.Sprintf("deployment %s (model_name %q): %s; requests for it will fail", d.ID, d.ModelName, why))
}

// setAuth writes the deployment's credentials on an upstream request.
func (d *Deployment) setAuth(req *fasthttp.Request) *Error {
	if d.px.token != nil {
		tok, err := d.px.token()
		if err != nil {
			return &Error{Status: 503, Type: "service_unavailable_error", Code: "upstream_auth_failed", Retryable: true,
				Message: fmt.Sprintf("deployment %s (model %q): could not get an access token: %s", d.ID, d.ModelName, d.scrub([]byte(err.Error())))}
		}
		req.Header.SetBytesV("Authorization", tok)
		return nil
	}
	if d.auth == nil {
		return nil
	}
	if d.px.authHeader != "" {
		req.Header.SetBytesV(d.px.authHeader, d.auth)
	} else {
		req.Header.SetBytesV("Authorization", d.auth)
	}
	return nil
}

// param returns litellm_params[key] as a string ("" when absent or not a
// scalar).
func param(cd *config.Deployment, key string) string {
	switch v := cd.Params[key].(type) {
	case string:
		return strings.TrimSpace(v)
	case nil:
		return ""
	case fmt.Stringer:
		return v.String()
	case int, int64, float64, bool:
		return fmt.Sprint(v)
	}
	return ""
}
