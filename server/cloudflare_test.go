package server

import (
	"context"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/upstream"
)

// Cloudflare Workers AI's OpenAI-compatible endpoint: the account is in
// the URL, the token a bearer, the model id ("@cf/...") in the body.
func TestCloudflareWorkersAI(t *testing.T) {
	up := newFakeOpenAI(t)
	d := dep(0, "llama", "cloudflare/@cf/meta/llama-3.3-70b-instruct-fp8-fast", up.base(), "cf-token")
	gw := startGateway(t, testConfig(d))
	client := sdk(gw, testMasterKey)
	p := userMsg("hi")
	p.Model = "llama"
	if _, err := client.Chat.Completions.New(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	r := up.requests()[0]
	if r.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer cf-token" || upstreamModel(r.Body) != "@cf/meta/llama-3.3-70b-instruct-fp8-fast" {
		t.Fatalf("%s %q %s", r.Path, r.Header.Get("Authorization"), r.Body)
	}

	// Without api_base the URL is built from CLOUDFLARE_ACCOUNT_ID.
	d2 := dep(0, "llama", "cloudflare/@cf/meta/llama-3.3-70b-instruct-fp8-fast", "", "")
	reg, err := upstream.NewRegistry(testConfig(d2), upstream.Options{LookupEnv: func(k string) (string, bool) {
		v, ok := map[string]string{"CLOUDFLARE_ACCOUNT_ID": "acct123", "CLOUDFLARE_API_KEY": "k"}[k]
		return v, ok
	}})
	if err != nil {
		t.Fatal(err)
	}
	if ok, why := reg.Groups()[0].Deployments[0].Available(); !ok {
		t.Fatal(why)
	}
	reg, _ = upstream.NewRegistry(testConfig(d2), upstream.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if ok, why := reg.Groups()[0].Deployments[0].Available(); ok || !strings.Contains(why, "CLOUDFLARE_ACCOUNT_ID") {
		t.Fatalf("available without an account: %v %q", ok, why)
	}
}
