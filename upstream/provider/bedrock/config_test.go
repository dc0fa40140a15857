package bedrock_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
)

func TestBedrockEndpointFromConfig(t *testing.T) {
	cd := &config.Deployment{ModelName: "m", ID: "m-0", Model: "bedrock/converse/us.anthropic.claude-3-7-sonnet-20250219-v1:0", Provider: "bedrock",
		UpstreamModel: "converse/us.anthropic.claude-3-7-sonnet-20250219-v1:0",
		Params:        map[string]any{"aws_region_name": "ap-northeast-1", "aws_access_key_id": "AK", "aws_secret_access_key": "SK"}}
	reg, err := upstream.NewRegistry(&config.Config{Deployments: []*config.Deployment{cd}}, upstream.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	d := reg.Groups()[0].Deployments[0]
	if ok, why := d.Available(); !ok {
		t.Fatal(why)
	}
	if d.URI != "https://bedrock-runtime.ap-northeast-1.amazonaws.com/model/us.anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse" {
		t.Fatalf("uri %s", d.URI)
	}
	if strings.Contains(strings.Join(reg.Warnings(), " "), "SK") {
		t.Fatal("secret in warnings")
	}
}

// A Bedrock stream's usage (its metadata event) must reach
// Response.Usage like every other provider's: tokens-per-minute limits,
// metrics and the router's tpm read it there. It was only ever written
// into the client's usage chunk, and only when the client asked.
func TestBedrockStreamReportsUsage(t *testing.T) {
	var wire []byte
	wire = append(wire, esEvent("messageStart", `{"role":"assistant"}`)...)
	wire = append(wire, esEvent("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"hi"}}`)...)
	wire = append(wire, esEvent("messageStop", `{"stopReason":"end_turn"}`)...)
	wire = append(wire, esEvent("metadata", `{"usage":{"inputTokens":7,"outputTokens":3,"totalTokens":12,"cacheReadInputTokens":2}}`)...)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
		_, _ = w.Write(wire)
	}))
	defer srv.Close()
	cfg := &config.Config{Deployments: []*config.Deployment{{ModelName: "nova", ID: "nova-0", Model: "bedrock/amazon.nova-lite-v1:0",
		Provider: "bedrock", UpstreamModel: "amazon.nova-lite-v1:0", Params: map[string]any{
			"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
			"aws_region_name": "us-east-1", "aws_bedrock_runtime_endpoint": srv.URL}}}}
	reg, err := upstream.NewRegistry(cfg, upstream.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"model":"nova","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	i := strings.Index(body, `"nova"`)
	req := &upstream.ChatRequest{Body: []byte(body), ModelStart: i, ModelEnd: i + 6, Model: []byte("nova"), Stream: true, WantUsage: true, Cancel: &upstream.Cancel{}}
	out := new(upstream.Response)
	defer out.X.Release(&out.Resp)
	if err := reg.Chat(reg.Lookup([]byte("nova")), req, out); err != nil {
		t.Fatal(err)
	}
	var w providertest.Writer
	if err := out.Stream.Relay(&w); err != nil {
		t.Fatal(err)
	}
	if u := out.Usage; !u.Reported || u.PromptTokens != 9 || u.CompletionTokens != 3 {
		t.Fatalf("usage %+v", u)
	}
}
