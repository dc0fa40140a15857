package server

import (
	"net/http"
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
