package server

import (
	"fmt"
	"strings"
	"testing"
)

// A wildcard anthropic/* deployment on the native /v1/messages route must
// send the client's body with only "model" replaced. The body used to be
// built with SetBodyRaw over the request's own pooled buffer followed by
// AppendBody, which dropped everything before the model (and handed a
// buffer still in use back to fasthttp's pool).
func TestMessagesWildcardBodyIntact(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(anthropicJSON(`[{"type":"text","text":"Hello!"}]`, "end_turn", 10, 2, 0, 0))
	d := dep(0, "claude-*", "anthropic/*", "http://"+up.ln.Addr().String(), anthropicTestKey)
	gw := startGateway(t, testConfig(d))
	body := strings.Replace(fmt.Sprintf(claudeCodeBody, ""), `"model":"claude"`, `"model":"claude-opus-4"`, 1)
	for i := 0; i < 3; i++ {
		r := rawRequest(t, gw, "POST", "/v1/messages", body, claudeHeaders()...)
		if r.StatusCode != 200 {
			t.Fatalf("%d %s", r.StatusCode, r.Body)
		}
		got := string(up.requests()[i].Body)
		if want := strings.Replace(body, `"model":"claude-opus-4"`, `"model":"opus-4"`, 1); got != want {
			t.Fatalf("upstream body:\n got %s\nwant %s", got, want)
		}
	}
}
