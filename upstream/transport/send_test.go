package transport_test

import (
	"net/http"
	"testing"
	"time"

	pt "github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/llmedge/llmedge/upstream/upstreamtest"
)

// A request is written from inside a raw read that then waits for the
// answer (send.go). An answer that comes before the wait begins (an
// upstream answering at once, on loopback) must not be missed, or the
// call would hang until its timeout; one that comes later must wake
// it. Every call here runs on the same kept-alive connection.
func TestSendWaitKeepsAnAnswerThatComesFirst(t *testing.T) {
	for _, delay := range []time.Duration{0, 2 * time.Millisecond} {
		up := pt.NewUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			time.Sleep(delay)
			pt.OpenAIAnswer("ok")(w, r, body)
		})
		// A call's timeout of 5 s: a missed answer fails the call.
		// (upstreamtest.Config does not carry litellm_settings'
		// request_timeout into the deployments it is given.)
		d := upstreamtest.Dep("m", "openai/m", up.URL()+"/v1", "k")
		d.Timeout = 5 * time.Second
		reg := upstreamtest.Registry(t, upstreamtest.Config(t, "router_settings: {num_retries: 0}", d), nil)
		var slowest time.Duration
		for range 300 {
			start := time.Now()
			if r := upstreamtest.Chat(t, reg, chatBody); r.Status != 200 {
				t.Fatalf("delay %v: status %d after %v: %s", delay, r.Status, time.Since(start), r.Body)
			}
			slowest = max(slowest, time.Since(start))
		}
		if slowest > 2*time.Second {
			t.Errorf("delay %v: slowest call took %v: an answer was missed and waited for", delay, slowest)
		}
	}
}
