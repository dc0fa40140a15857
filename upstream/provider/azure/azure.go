// Package azure is Azure OpenAI: OpenAI's format at a per-deployment
// URL with an api-key header or an AD token, passed through like any
// OpenAI-compatible server. It implements the upstream/provider
// contract and must not know the router or the HTTP server.
package azure

import (
	"fmt"
	"github.com/llmedge/llmedge/upstream/provider/openai"
	"net/url"
	"strings"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/upstream/provider"
)

// DefaultAPIVersion is used when neither litellm_params.api_version
// nor AZURE_API_VERSION is set: the latest GA data-plane inference
// version in Microsoft's Azure OpenAI REST reference.
const DefaultAPIVersion = "2024-10-21"

// Provider is Azure OpenAI: OpenAI's format on a per-deployment
// URL, so requests take the pass-through path; only the URL and the
// auth header differ. It serves chat, legacy completions and embeddings
// on every deployment URL (its Responses API lives elsewhere and is not
// passed through).
var Provider = provider.Descriptor{
	Routes:  provider.RoutesOf(provider.RouteChat, provider.RouteCompletions, provider.RouteEmbeddings),
	Build:   buildAzure,
	Attempt: openai.PassThrough,
	Probe:   modelsProbe,
}

// buildAzure sets up an azure/ deployment. Azure OpenAI speaks OpenAI's
// chat format, so requests take the pass-through path; only the URL and
// the auth header differ:
//
//	{api_base}/openai/deployments/{deployment}/chat/completions?api-version={v}
//	api-key: {api_key}            (or Authorization: Bearer {azure_ad_token})
//
// api_version "v1", "preview" or "latest" selects Azure's v1 API
// ({api_base}/openai/v1/chat/completions, deployment named by "model" in
// the body), as LiteLLM does.
func buildAzure(d *provider.Endpoint, b *provider.BuildEnv) *config.Error {
	path, env := b.Path, b.Env
	cd := d.Config
	// "azure/o_series/o3": LiteLLM's marker for reasoning deployments;
	// the deployment is what follows it.
	deployment := strings.TrimPrefix(cd.UpstreamModel, "o_series/")
	d.QuotedModel = jsonx.AppendString(nil, deployment)
	base := cd.APIBase
	fromEnv := false
	if base == "" {
		base, fromEnv = env("AZURE_API_BASE", "AZURE_OPENAI_ENDPOINT"), true
	}
	if base == "" {
		return &config.Error{Path: path + ".api_base", Msg: "azure deployments need api_base (https://{resource}.openai.azure.com) or AZURE_API_BASE"}
	}
	version := cd.APIVersion
	if version == "" {
		version = env("AZURE_API_VERSION")
	}
	if version == "" {
		version = DefaultAPIVersion
	}
	base = strings.TrimRight(base, "/")
	base = strings.TrimSuffix(base, "/openai")
	// Every route's URL: prefix + route path + query.
	var prefix, query string
	switch version {
	case "v1":
		prefix = base + "/openai/v1"
	case "preview", "latest":
		prefix, query = base+"/openai/v1", "?api-version="+version
	default:
		if d.Wildcard {
			b.Unsupported(d, "azure wildcard deployments need api_version v1, preview or latest (the deployment URL names one deployment)")
		}
		prefix, query = base+"/openai/deployments/"+url.PathEscape(deployment), "?api-version="+url.QueryEscape(version)
	}
	uri := prefix + "/chat/completions" + query
	for _, rt := range []provider.Route{provider.RouteCompletions, provider.RouteEmbeddings} {
		d.URIs[rt] = prefix + rt.Spec().Path + query
	}
	if e := b.SetEndpoint(d, uri, path+".api_base"); e != nil {
		if !fromEnv {
			return e
		}
		b.Unavailable(d, "invalid_endpoint", "AZURE_API_BASE is not an http:// or https:// URL")
		return nil
	}
	if d.Unavailable != "" {
		return nil // an unset os.environ/ variable: already explained
	}
	key := cd.APIKey
	if key == "" {
		key = env("AZURE_API_KEY", "AZURE_OPENAI_API_KEY")
	}
	if key != "" {
		d.Key = key
		d.Auth = []byte(key)
		d.AuthHeader = "api-key"
		return nil
	}
	token := provider.Param(cd, "azure_ad_token")
	if token == "" {
		token = env("AZURE_AD_TOKEN")
	}
	if token != "" {
		d.Key = token
		d.Auth = []byte("Bearer " + token)
		return nil
	}
	if provider.Param(cd, "tenant_id") != "" || provider.Param(cd, "client_id") != "" || provider.Param(cd, "azure_username") != "" {
		b.Unsupported(d, "Entra ID client-secret / username login (tenant_id, client_id) is not supported by llmedge; set api_key or azure_ad_token")
		return nil
	}
	b.Unavailable(d, "missing_environment_variable", fmt.Sprintf("no api_key or azure_ad_token and %s is not set", "AZURE_API_KEY"))
	return nil
}
