package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// An upstream error body that is not JSON is quoted in the message, cut
// at 512 bytes: the cut may split a UTF-8 sequence (or the body may not
// be UTF-8 at all). The client's error document must still be valid
// JSON text, i.e. valid UTF-8.
func TestUpstreamErrorMessageStaysUTF8(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(400)
		fmt.Fprint(w, "x"+strings.Repeat("é", 300)+"\xff")
	})
	gw := startGateway(t, testConfig(dep(0, "gpt", "openai/gpt-4o", up.base(), "sk-up")))
	r := rawRequest(t, gw, "POST", "/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":"hi"}]}`,
		"Authorization: Bearer "+testMasterKey)
	if r.StatusCode != 400 {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	if !utf8.ValidString(r.Body) {
		t.Fatalf("error body is not valid UTF-8: %q", r.Body[len(r.Body)-60:])
	}
}
