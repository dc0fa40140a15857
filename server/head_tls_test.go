package server

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/llmedge/llmedge/internal/egresstest"
)

// A request built from its endpoint's copied head names its target as a
// path and a Host only; over TLS the cookie store and redirects must
// still see https: a Secure cookie goes out on the next request, and a
// relative redirect stays on https.
func TestCopiedHeadOverTLSKeepsSecureCookieAndRedirect(t *testing.T) {
	ca := egresstest.NewCA(t, "corp")
	f, base := startTLSFake(t, ca.ServerCert(t, "127.0.0.1"), nil)
	var n atomic.Int32
	f.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch {
		case n.Add(1) == 1:
			// On a redirect to the same URL, which the answer's own
			// cookie cannot overwrite.
			w.Header().Set("Set-Cookie", "sec=s1; Path=/; Secure; HttpOnly")
			w.Header().Set("Location", "/v1/chat/completions")
			w.WriteHeader(http.StatusTemporaryRedirect)
		case r.URL.Path == "/v1/chat/completions" && n.Load() == 3:
			w.Header().Set("Location", "/v2/chat/completions")
			w.WriteHeader(http.StatusTemporaryRedirect)
		default:
			answerJSON("over tls")(w, r, body)
		}
	})
	gw := startEgressGateway(t, egressYAML(base, "ssl_verify: "+ca.BundlePath, ""), nil)
	for i := range 2 {
		c, err := chatOnce(t, gw)
		if err != nil || c.Choices[0].Message.Content != "over tls" {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	reqs := f.requests()
	if len(reqs) != 4 || reqs[3].Path != "/v2/chat/completions" {
		t.Fatalf("requests %+v", reqs)
	}
	for _, r := range reqs[1:] {
		if !strings.Contains(r.Header.Get("Cookie"), "sec=s1") {
			t.Fatalf("%s: Secure cookie not sent over https: %v", r.Path, r.Header)
		}
	}
	if reqs[3].Header.Get("Authorization") != "Bearer sk-upstream-key" {
		t.Fatalf("redirected request lost its credentials: %v", reqs[2].Header)
	}
}
