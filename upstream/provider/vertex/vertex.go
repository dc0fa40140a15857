// Package vertex is Google Vertex AI: its OpenAI-compatible endpoint
// for Gemini and open models (passed through), and Claude models in
// Anthropic's format at rawPredict (anthropic.go translates OpenAI chat,
// native.go passes native /v1/messages calls through), with a Google OAuth
// token per request. It implements the upstream/provider contract and
// must not know the router or the HTTP server.
package vertex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/llmedge/llmedge/upstream/provider/openai"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/transport"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

// vertexScope is the OAuth scope Vertex AI calls need.
const vertexScope = "https://www.googleapis.com/auth/cloud-platform"

// DefaultLocation is LiteLLM's default when neither
// vertex_location nor VERTEXAI_LOCATION is set.
const DefaultLocation = "us-central1"

// tokenFetchTimeout bounds one OAuth token request.
const tokenFetchTimeout = 30 * time.Second

// Provider is Vertex AI's OpenAI-compatible endpoint (Gemini and
// partner models), served by the pass-through path with a Google OAuth
// token; its Claude models become vertexAnthropicProvider deployments.
var Provider = provider.Descriptor{Routes: provider.RoutesChatOnly, Build: buildVertex, Attempt: openai.PassThrough}

// buildVertex sets up a vertex_ai/ deployment.
//
// Gemini and the partner models Vertex serves in OpenAI's format go to
// Vertex's OpenAI-compatible endpoint, passed through with "model"
// rewritten to "google/{model}" (or "{publisher}/{model}" as written):
//
//	POST https://{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}/endpoints/openapi/chat/completions
//	Authorization: Bearer {OAuth access token}
//
// Claude models use Anthropic's format on Vertex (anthropic.go).
// api_base, when set, replaces "https://{location}-aiplatform.googleapis.com"
// (a private endpoint or a test server); an api_base ending in
// /chat/completions is used as is.
func buildVertex(d *provider.Endpoint, b *provider.BuildEnv) *config.Error {
	path, env := b.Path, b.Env
	cd := d.Config
	model := strings.TrimPrefix(cd.UpstreamModel, "gemini/")
	claude := strings.HasPrefix(strings.ToLower(model), "claude")

	credJSON, credErr := vertexCredentialsJSON(cd, env)
	project := provider.Param(cd, "vertex_project")
	if project == "" && credJSON != nil {
		var f struct {
			ProjectID string `json:"project_id"`
		}
		_ = json.Unmarshal(credJSON, &f)
		project = f.ProjectID
	}
	if project == "" {
		project = env("VERTEXAI_PROJECT", "VERTEX_PROJECT", "GOOGLE_CLOUD_PROJECT")
	}
	location := provider.Param(cd, "vertex_location")
	if location == "" {
		location = env("VERTEXAI_LOCATION", "VERTEX_LOCATION")
	}
	if location == "" {
		location = DefaultLocation
	}
	host := "https://" + location + "-aiplatform.googleapis.com"
	if location == "global" {
		host = "https://aiplatform.googleapis.com"
	}
	errPath := path + ".vertex_location"
	if cd.APIBase != "" {
		host = strings.TrimRight(cd.APIBase, "/")
		errPath = path + ".api_base"
	}
	prefix := host + "/v1/projects/" + url.PathEscape(project) + "/locations/" + url.PathEscape(location)
	var uri string
	switch {
	case strings.HasSuffix(host, "/chat/completions") && !claude:
		uri = host
	case claude:
		uri = prefix + "/publishers/anthropic/models/" + url.PathEscape(model) + ":rawPredict"
	default:
		uri = prefix + "/endpoints/openapi/chat/completions"
	}
	if e := b.SetEndpoint(d, uri, errPath); e != nil {
		return e
	}
	if claude {
		b.Provider = &vertexAnthropicProvider
		if e := buildVertexAnthropic(d, b, prefix, model); e != nil {
			return e
		}
	} else {
		up := model
		if !strings.Contains(up, "/") {
			up = "google/" + up
		}
		d.QuotedModel = jsonx.AppendString(nil, up)
		if d.Wildcard {
			b.Unsupported(d, "vertex_ai wildcard deployments are not supported")
		}
	}
	if d.Unavailable != "" {
		return nil
	}
	if project == "" {
		b.Unavailable(d, "missing_environment_variable", "no vertex_project, no project_id in the credentials and VERTEXAI_PROJECT is not set")
		return nil
	}
	if credErr != nil {
		b.Unavailable(d, "invalid_credentials", credErr.Error())
		return nil
	}
	ts := newVertexTokens(credJSON)
	ts.egress = d.Egress
	d.Token, d.LastToken = ts.token, ts.lastToken
	return nil
}

// vertexCredentialsJSON returns the service-account (or other Google
// credential) JSON from litellm_params.vertex_credentials (a file path,
// inline JSON, or a YAML mapping) or GOOGLE_APPLICATION_CREDENTIALS.
// Nil with no error means "none given": Application Default Credentials
// are looked up on first use.
func vertexCredentialsJSON(cd *config.Deployment, env func(...string) string) ([]byte, error) {
	switch v := cd.Params["vertex_credentials"].(type) {
	case map[string]any:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, errors.New("vertex_credentials: not a JSON object")
		}
		return b, nil
	case string:
		v = strings.TrimSpace(v)
		if strings.HasPrefix(v, "{") {
			if !json.Valid([]byte(v)) {
				return nil, errors.New("vertex_credentials: inline JSON does not parse")
			}
			return []byte(v), nil
		}
		if v != "" {
			return readCredentialsFile(v, "vertex_credentials")
		}
	}
	if f := env("GOOGLE_APPLICATION_CREDENTIALS"); f != "" {
		return readCredentialsFile(f, "GOOGLE_APPLICATION_CREDENTIALS")
	}
	return nil, nil
}

func readCredentialsFile(name, from string) ([]byte, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read credentials file %q: %v", from, name, errors.Unwrap(err))
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("%s: credentials file %q is not JSON", from, name)
	}
	return b, nil
}

// vertexTokens hands out OAuth access tokens. golang.org/x/oauth2/google
// does the credential-type specific exchange (service-account JWT
// assertion to token_uri, authorized_user refresh, external accounts,
// metadata server) and oauth2.ReuseTokenSource caches the token until
// shortly before it expires, so a request normally costs one mutex.
type vertexTokens struct {
	mu   sync.Mutex
	json []byte
	// egress is the deployment's proxy and TLS (nil: direct): the token
	// endpoint is reached the way the model is.
	egress *transport.Egress
	src    oauth2.TokenSource
	// last is the last token handed out and header its
	// "Bearer <token>" value, reused while the token lasts.
	last   string
	header []byte
}

func newVertexTokens(credJSON []byte) *vertexTokens { return &vertexTokens{json: credJSON} }

// token returns the Authorization header value. The returned slice is
// never modified afterwards (a new token gets a new slice).
func (v *vertexTokens) token() ([]byte, error) {
	v.mu.Lock()
	src := v.src
	if src == nil {
		var err error
		src, err = v.source()
		if err != nil {
			v.mu.Unlock()
			return nil, err
		}
		v.src = src
	}
	v.mu.Unlock()
	t, err := src.Token()
	if err != nil {
		return nil, trimOAuthError(err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if t.AccessToken != v.last || v.header == nil {
		v.last = t.AccessToken
		v.header = []byte("Bearer " + t.AccessToken)
	}
	return v.header, nil
}

// lastToken is the access token last handed out ("" before the first).
func (v *vertexTokens) lastToken() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.last
}

func (v *vertexTokens) source() (oauth2.TokenSource, error) {
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Timeout: tokenFetchTimeout, Transport: v.egress.HTTPTransport()})
	if v.json == nil {
		creds, err := google.FindDefaultCredentials(ctx, vertexScope)
		if err != nil {
			return nil, errors.New("no vertex_credentials, GOOGLE_APPLICATION_CREDENTIALS or application default credentials found")
		}
		return oauth2.ReuseTokenSource(nil, creds.TokenSource), nil
	}
	var f struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(v.json, &f)
	creds, err := google.CredentialsFromJSONWithType(ctx, v.json, google.CredentialsType(f.Type), vertexScope)
	if err != nil {
		return nil, fmt.Errorf("vertex credentials of type %q: %s", f.Type, trimOAuthError(err))
	}
	return oauth2.ReuseTokenSource(nil, creds.TokenSource), nil
}

// trimOAuthError keeps an OAuth failure short: the token endpoint's
// status and error code, never a response body that might echo secrets.
func trimOAuthError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		code := re.ErrorCode
		if code == "" {
			// Google's error and error_description fields name the
			// problem ("invalid_grant", "Invalid JWT Signature.") and
			// never echo the assertion.
			var b struct {
				Error string `json:"error"`
				Desc  string `json:"error_description"`
			}
			_ = json.Unmarshal(re.Body, &b)
			code = strings.TrimSpace(b.Error + ": " + b.Desc)
			if len(code) > 200 {
				code = code[:200]
			}
			if b.Error == "" {
				code = "no error code"
			}
		}
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return fmt.Errorf("token endpoint answered HTTP %d (%s)", status, code)
	}
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return errors.New(msg)
}
