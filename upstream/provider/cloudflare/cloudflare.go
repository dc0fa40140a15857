// Package cloudflare is Cloudflare Workers AI's OpenAI-compatible
// endpoint, addressed by account id. It implements the
// upstream/provider contract and must not know the router or the HTTP
// server.
package cloudflare

import (
	"github.com/llmedge/llmedge/upstream/provider/openai"
	"net/url"
	"strings"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/provider"
)

// Provider is Cloudflare Workers AI's OpenAI-compatible
// endpoint, whose URL names the account; served by the pass-through
// path.
var Provider = provider.Descriptor{Routes: provider.RoutesChatOnly, Build: buildCloudflare, Attempt: openai.PassThrough}

// buildCloudflare sets up a cloudflare/ deployment (model ids like
// "@cf/meta/llama-3.3-70b-instruct-fp8-fast"):
//
//	POST https://api.cloudflare.com/client/v4/accounts/{account_id}/ai/v1/chat/completions
//	Authorization: Bearer {api_key}
//
// The account comes from CLOUDFLARE_ACCOUNT_ID (as in LiteLLM) unless
// api_base is set; the key from api_key or CLOUDFLARE_API_KEY.
func buildCloudflare(d *provider.Endpoint, b *provider.BuildEnv) *config.Error {
	path, env := b.Path, b.Env
	cd := d.Config
	base := cd.APIBase
	if base == "" {
		account := env("CLOUDFLARE_ACCOUNT_ID")
		if account == "" {
			base = "https://api.cloudflare.com/client/v4/accounts/unset/ai/v1"
			b.Unavailable(d, "missing_environment_variable", "cloudflare needs CLOUDFLARE_ACCOUNT_ID (or an api_base naming the account)")
		} else {
			base = "https://api.cloudflare.com/client/v4/accounts/" + url.PathEscape(account) + "/ai/v1"
		}
	}
	if e := b.SetEndpoint(d, openai.ChatURL(strings.TrimRight(base, "/")), path+".api_base"); e != nil {
		return e
	}
	if d.Unavailable != "" {
		return nil
	}
	key := cd.APIKey
	if key == "" {
		key = env("CLOUDFLARE_API_KEY", "CLOUDFLARE_API_TOKEN")
	}
	if key == "" {
		b.Unavailable(d, "missing_environment_variable", "no api_key and CLOUDFLARE_API_KEY is not set")
		return nil
	}
	d.Key = key
	d.Auth = []byte("Bearer " + key)
	return nil
}
