package cloudflare_test

import (
	"strings"
	"testing"

	"github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/llmedge/llmedge/upstream/upstreamtest"
)

// Cloudflare Workers AI's OpenAI-compatible endpoint: the account is in
// the URL, the token a bearer, the model id ("@cf/...") in the body.
func TestCloudflareWorkersAI(t *testing.T) {
	up := providertest.NewUpstream(t, nil)
	const model = "cloudflare/@cf/meta/llama-3.3-70b-instruct-fp8-fast"
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "", upstreamtest.Dep("llama", model, up.URL()+"/v1", "cf-token")), nil)
	upstreamtest.Chat(t, reg, `{"model":"llama","messages":[{"role":"user","content":"hi"}]}`).Completion(t)
	r := up.Requests()[0]
	if r.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer cf-token" || providertest.RequestModel(r.Body) != "@cf/meta/llama-3.3-70b-instruct-fp8-fast" {
		t.Fatalf("%s %q %s", r.Path, r.Header.Get("Authorization"), r.Body)
	}

	// Without api_base the URL is built from CLOUDFLARE_ACCOUNT_ID.
	cfg := upstreamtest.Config(t, "", upstreamtest.Dep("llama", model, "", ""))
	reg = upstreamtest.Registry(t, cfg, map[string]string{"CLOUDFLARE_ACCOUNT_ID": "acct123", "CLOUDFLARE_API_KEY": "k"})
	d := reg.Groups()[0].Deployments[0]
	if ok, why := d.Available(); !ok {
		t.Fatal(why)
	}
	if d.URI != "https://api.cloudflare.com/client/v4/accounts/acct123/ai/v1/chat/completions" {
		t.Fatalf("uri %s", d.URI)
	}
	reg = upstreamtest.Registry(t, cfg, nil)
	if ok, why := reg.Groups()[0].Deployments[0].Available(); ok || !strings.Contains(why, "CLOUDFLARE_ACCOUNT_ID") {
		t.Fatalf("available without an account: %v %q", ok, why)
	}
}
