package provider

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/transport"
	"github.com/valyala/fasthttp"
)

// Endpoint is what a provider's attempt sees of a deployment: where and
// how to reach its upstream, with which credentials, headers and
// timeouts. A provider's Build fills in the address and credentials;
// the registry the rest. upstream.Deployment embeds it.
type Endpoint struct {
	// Config is the model_list entry as loaded.
	Config *config.Deployment
	// ID is the deployment id (model_info.id or generated).
	ID string
	// ModelName is the public model name.
	ModelName string
	// Provider is the provider prefix.
	Provider string

	// Net is the pools and cookie store the registry's exchanges share;
	// Pool is the connection pool of the deployment's host.
	Net  *transport.Session
	Pool transport.Pool
	// Egress is the deployment's forward proxy and TLS settings (nil:
	// direct, Go's defaults), for what it fetches outside the pools
	// (OAuth tokens).
	Egress *transport.Egress
	// URI is the full upstream chat URL; Host is its Host header.
	URI  string
	Host string
	// URIs are the upstream URLs per route (routes.go of upstream says
	// which routes the deployment serves).
	URIs [NumRoutes]string
	// StreamURI is the streaming endpoint when it differs from URI
	// (Claude on Vertex: :streamRawPredict).
	StreamURI string
	// QuotedModel is the upstream model id as a JSON string literal.
	QuotedModel []byte
	// Wildcard is true when the upstream model id comes from the request
	// (model "openai/*").
	Wildcard bool

	// Auth is "Bearer <key>" (or the key alone) or nil, sent in
	// AuthHeader ("" = Authorization).
	Auth       []byte
	AuthHeader string
	// Token, when set, yields the Authorization value per request
	// (Vertex: a cached, refreshed Google OAuth access token);
	// LastToken is the token last handed out, scrubbed like a key.
	Token     func() ([]byte, error)
	LastToken func() string
	// Key is the API key, for scrubbing upstream error text.
	Key string
	// SessionToken is a second credential scrubbed like Key: the AWS
	// session token, which SigV4 errors can echo in their canonical
	// request (from the config or, unlike config values, the environment).
	SessionToken string
	// HeaderSecrets are the credential values among Headers (scrub.go).
	HeaderSecrets []string
	Headers       []config.Header
	// heads are the constant request heads per route (head.go); nil:
	// every request is built field by field.
	heads *[NumRoutes]*fasthttp.RequestHeader
	// Ext is what the provider keeps for itself (bedrock: its signer
	// and region); nil for most.
	Ext any
	// Options are the litellm_params beyond the endpoint (options.go).
	Options Options

	// Timeout bounds a whole non-stream call; StreamTimeout the wait for
	// a stream's first event and every gap after it; ReadTimeout each
	// silence in a non-stream body (pool setting, 0 = none).
	Timeout       time.Duration
	StreamTimeout time.Duration
	ReadTimeout   time.Duration

	// Unavailable is why requests for this deployment fail ("" =
	// serving); UnavailableStatus and UnavailableCode are the error
	// they get.
	Unavailable       string
	UnavailableStatus int
	UnavailableCode   string
}

// BuildEnv is what a provider's Build reads and reports besides the
// endpoint it fills in.
type BuildEnv struct {
	Cfg *config.Config
	// Path is the YAML path of the entry's litellm_params, for errors.
	Path   string
	Lookup func(string) (string, bool)
	// Pool returns the connection pool for addr ("host:port") with the
	// deployment's pool settings and their read timeout (the registry's).
	Pool func(cd *config.Deployment, addr string, tls bool) (transport.Pool, time.Duration)
	// Provider is the descriptor the deployment uses; Build may swap it
	// for a variant (vertex_ai's Claude models).
	Provider *Descriptor
	// Warnings collects the deployment's startup warnings (no secrets).
	Warnings []string
}

// Env returns the first of the environment variables names that is set
// and not empty.
func (b *BuildEnv) Env(names ...string) string {
	for _, n := range names {
		if v, ok := b.Lookup(n); ok && v != "" {
			return v
		}
	}
	return ""
}

// Warn adds a startup warning.
func (b *BuildEnv) Warn(msg string) { b.Warnings = append(b.Warnings, msg) }

// SetEndpoint points d at rawURL: request URI, Host and connection pool.
func (b *BuildEnv) SetEndpoint(d *Endpoint, rawURL, errPath string) *config.Error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &config.Error{Path: errPath, Msg: "must be an http:// or https:// URL"}
	}
	d.URI = u.String()
	d.Host = u.Host
	// The chat URI is the deployment's; providers serving more routes
	// set theirs after (InitRouteURIs, azure).
	d.URIs[RouteChat] = d.URI
	d.Pool, d.ReadTimeout = b.Pool(d.Config, transport.DialAddr(u), u.Scheme == "https")
	return nil
}

// Unavailable marks d unavailable (503) with a startup warning.
func (b *BuildEnv) Unavailable(d *Endpoint, code, why string) {
	if d.Unavailable != "" {
		return
	}
	d.Unavailable = fmt.Sprintf("model %q is unavailable: %s", d.ModelName, why)
	d.UnavailableStatus, d.UnavailableCode = 503, code
	b.Warn(fmt.Sprintf("deployment %s (model_name %q): %s; requests for it will get 503", d.ID, d.ModelName, why))
}

// Unsupported marks d unavailable (501): llmedge cannot serve
// what the entry asks for.
func (b *BuildEnv) Unsupported(d *Endpoint, why string) {
	if d.Unavailable != "" {
		return
	}
	d.Unavailable = fmt.Sprintf("model %q is unavailable: %s", d.ModelName, why)
	d.UnavailableStatus, d.UnavailableCode = 501, "provider_not_supported"
	b.Warn(fmt.Sprintf("deployment %s (model_name %q): %s; requests for it will fail", d.ID, d.ModelName, why))
}

// InitRouteURIs sets the upstream URL of every route from api_base: the
// base without a trailing "/chat/completions", plus the route's path.
func (d *Endpoint) InitRouteURIs(base string) {
	base = strings.TrimSuffix(strings.TrimRight(base, "/"), "/chat/completions")
	for r := Route(0); r < NumRoutes; r++ {
		s := r.Spec()
		u := base + s.Path
		if s.ByID {
			u += "/"
		}
		d.URIs[r] = u
	}
	d.URIs[RouteChat] = d.URI
}

// SetRequestURI points ureq at the upstream URL for req's route.
func (d *Endpoint) SetRequestURI(ureq *fasthttp.Request, req *Request) {
	r := req.Route
	if r >= NumRoutes {
		r = RouteChat
	}
	if !r.Spec().ByID && len(req.Query) == 0 {
		ureq.SetRequestURI(d.URIs[r])
		return
	}
	var buf [256]byte
	b := append(buf[:0], d.URIs[r]...)
	if s := r.Spec(); s.ByID {
		b = append(b, req.ResponseID...)
		b = append(b, s.Suffix...)
	}
	if len(req.Query) > 0 {
		b = append(b, '?')
		b = append(b, req.Query...)
	}
	ureq.SetRequestURIBytes(b)
}

// SetAuth writes the deployment's credentials on an upstream request.
func (d *Endpoint) SetAuth(req *fasthttp.Request) *Error {
	if d.Token != nil {
		tok, err := d.Token()
		if err != nil {
			return &Error{Status: 503, Type: "service_unavailable_error", Code: "upstream_auth_failed", Retryable: true,
				Message: fmt.Sprintf("deployment %s (model %q): could not get an access token: %s", d.ID, d.ModelName, d.Scrub([]byte(err.Error())))}
		}
		req.Header.SetBytesV("Authorization", tok)
		return nil
	}
	if d.Auth == nil {
		return nil
	}
	if d.AuthHeader != "" {
		req.Header.SetBytesV(d.AuthHeader, d.Auth)
	} else {
		req.Header.SetBytesV("Authorization", d.Auth)
	}
	return nil
}

// Param returns litellm_params[key] as a string ("" when absent or not a
// scalar).
func Param(cd *config.Deployment, key string) string {
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
