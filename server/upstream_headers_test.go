package server

import (
	"github.com/llmedge/llmedge/config"
	"net/http"
	"strings"
	"testing"
)

// Upstream headers that name the provider account (OpenAI's
// openai-organization and openai-project) stay with llmedge; rate
// limits, retry hints and OpenAI's processing time and API version reach
// the client, on a non-stream answer and on a stream.
func TestAccountIdentifyingUpstreamHeadersAreNotRelayed(t *testing.T) {
	up := newFakeOpenAI(t)
	answer := answerJSON("hello")
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		h := w.Header()
		h.Set("Openai-Organization", "org-acme-secret")
		h.Set("Openai-Project", "proj_acme")
		h.Set("Openai-Processing-Ms", "12")
		h.Set("Openai-Version", "2020-10-01")
		h.Set("X-Ratelimit-Limit-Requests", "500")
		answer(w, r, body)
	})
	gw := startGateway(t, testConfig(dep(0, "m", "openai/m", up.base(), "k")))
	for _, body := range []string{chatBody, streamReq} {
		r := rawPost(t, gw, "/v1/chat/completions", body, testMasterKey)
		if r.StatusCode != 200 {
			t.Fatalf("%s: %d %s", body, r.StatusCode, r.Body)
		}
		for _, k := range []string{"Openai-Organization", "Openai-Project"} {
			if v := r.Header.Get(k); v != "" {
				t.Errorf("%s: relayed %s: %s", body, k, v)
			}
		}
		for _, k := range []string{"Openai-Processing-Ms", "Openai-Version", "X-Ratelimit-Limit-Requests"} {
			if r.Header.Get(k) == "" {
				t.Errorf("%s: %s not relayed", body, k)
			}
		}
	}
}

// A redirect to another host drops the credentials: Authorization,
// api-key and x-api-key were dropped, but not the headers the
// deployment adds (extra_headers, such as Supermemory's
// x-supermemory-api-key) nor Bedrock's X-Amz-Security-Token (the
// temporary credentials' session token).
func TestCrossHostRedirectDropsDeploymentSecrets(t *testing.T) {
	to := newFakeOpenAI(t)
	from := newFakeOpenAI(t)
	from.setHandler(func(w http.ResponseWriter, r *http.Request, _ []byte) {
		http.Redirect(w, r, "http://"+to.ln.Addr().String()+r.URL.Path, http.StatusTemporaryRedirect)
	})
	oa := dep(0, "gpt", "openai/gpt-4o", from.base(), "sk-up")
	oa.ExtraHeaders = []config.Header{{Name: "X-Gateway-Secret", Value: "gateway-secret-value"}}
	br := bedrockDep(1, "nova", "bedrock/amazon.nova-lite-v1:0", "http://"+from.ln.Addr().String())
	br.Params["aws_session_token"] = "FwoGZXIvYXdzEXAMPLEsessiontoken"
	to.setHandler(func(w http.ResponseWriter, r *http.Request, b []byte) {
		if strings.Contains(r.URL.Path, "/converse") {
			converseText("hi", "end_turn")(w, "converse", nil)
			return
		}
		answerJSON("hi")(w, r, b)
	})
	gw := startGateway(t, testConfig(oa, br))
	for _, model := range []string{"gpt", "nova"} {
		r := rawRequest(t, gw, "POST", "/v1/chat/completions", `{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`,
			"Authorization: Bearer "+testMasterKey)
		if r.StatusCode != 200 {
			t.Fatalf("%s: %d %s", model, r.StatusCode, r.Body)
		}
	}
	for _, req := range to.requests() {
		for k, v := range req.Header {
			if s := strings.Join(v, ","); strings.Contains(s, "gateway-secret-value") || strings.Contains(s, "FwoGZXIvYXdz") {
				t.Errorf("%s: the redirect target got %s: %s", req.Path, k, s)
			}
		}
	}
	if len(to.requests()) != 2 {
		t.Fatalf("redirect target saw %d requests", len(to.requests()))
	}
}
