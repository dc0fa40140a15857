package transport_test

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pt "github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/llmedge/llmedge/upstream/upstreamtest"
)

// A plain upstream connection's deadlines are armed when a wait needs
// them (rawio.Deadlines, idleprobe.go): the deadline an earlier call
// armed stays on the kept-alive connection, and a later call that
// waits past it must re-arm its own and go on, not time out. Here
// every second call starts 600 ms after the one before it armed a 1 s
// deadline and waits 700 ms for its answer: the stale deadline fires
// in the middle of its wait.
func TestExchangeOutlivesTheDeadlineAnEarlierCallArmed(t *testing.T) {
	var calls atomic.Int32
	var conns sync.Map // the client's address of each connection
	up := pt.NewUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		conns.Store(r.RemoteAddr, true)
		if calls.Add(1)%2 == 0 {
			time.Sleep(700 * time.Millisecond)
		}
		pt.OpenAIAnswer("ok")(w, r, body)
	})
	d := upstreamtest.Dep("m", "openai/m", up.URL()+"/v1", "k")
	d.Timeout = time.Second
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "router_settings: {num_retries: 0}", d), nil)
	for i := range 4 {
		start := time.Now()
		if r := upstreamtest.Chat(t, reg, chatBody); r.Status != 200 {
			t.Fatalf("call %d: status %d after %v: %s", i, r.Status, time.Since(start), r.Body)
		}
		if i%2 == 0 {
			time.Sleep(600 * time.Millisecond)
		}
	}
	n := 0
	conns.Range(func(any, any) bool { n++; return true })
	if n != 1 {
		t.Fatalf("%d connections: the calls did not share one kept-alive connection", n)
	}
}
