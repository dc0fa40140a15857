package upstream

import (
	"net/url"
	"strings"

	"github.com/llmedge/llmedge/config"
)

// cloudflareProvider is Cloudflare Workers AI's OpenAI-compatible
// endpoint, whose URL names the account; served by the pass-through
// path.
var cloudflareProvider = provider{routes: routesChatOnly, build: buildCloudflare, attempt: (*Registry).passThrough}

// buildCloudflare sets up a cloudflare/ deployment (model ids like
// "@cf/meta/llama-3.3-70b-instruct-fp8-fast"):
//
//	POST https://api.cloudflare.com/client/v4/accounts/{account_id}/ai/v1/chat/completions
//	Authorization: Bearer {api_key}
//
// The account comes from CLOUDFLARE_ACCOUNT_ID (as in LiteLLM) unless
// api_base is set; the key from api_key or CLOUDFLARE_API_KEY.
func buildCloudflare(r *Registry, d *Deployment, b *buildEnv) *config.Error {
	path, env := b.path, b.env
	cd := d.Config
	base := cd.APIBase
	if base == "" {
		account := env("CLOUDFLARE_ACCOUNT_ID")
		if account == "" {
			base = "https://api.cloudflare.com/client/v4/accounts/unset/ai/v1"
			r.unavailableBecause(d, "missing_environment_variable", "cloudflare needs CLOUDFLARE_ACCOUNT_ID (or an api_base naming the account)")
		} else {
			base = "https://api.cloudflare.com/client/v4/accounts/" + url.PathEscape(account) + "/ai/v1"
		}
	}
	if e := r.setEndpoint(d, chatURL(strings.TrimRight(base, "/")), path+".api_base"); e != nil {
		return e
	}
	if d.unavailable != "" {
		return nil
	}
	key := cd.APIKey
	if key == "" {
		key = env("CLOUDFLARE_API_KEY", "CLOUDFLARE_API_TOKEN")
	}
	if key == "" {
		r.unavailableBecause(d, "missing_environment_variable", "no api_key and CLOUDFLARE_API_KEY is not set")
		return nil
	}
	d.key = key
	d.auth = []byte("Bearer " + key)
	return nil
}
