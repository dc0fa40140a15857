package transport_test

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmedge/llmedge/upstream"
	pt "github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/llmedge/llmedge/upstream/upstreamtest"
)

// Redirects and the cookie store (session.go, cookies.go), seen from
// calls through a registry against a fake upstream on loopback.

const chatBody = `{"model":"m","messages":[{"role":"user","content":"x"}]}`

func registry(t *testing.T, up *pt.Upstream) *upstream.Registry {
	return upstreamtest.Registry(t, upstreamtest.Config(t, "router_settings: {retry_backoff_seconds: 0.01, retry_backoff_max_seconds: 0.05}",
		upstreamtest.Dep("m", "openai/m", up.URL()+"/v1", "k")), nil)
}

func cookieNames(h http.Header) map[string]string {
	out := map[string]string{}
	for _, line := range h.Values("Cookie") {
		for _, part := range strings.Split(line, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			if k != "" {
				out[k] = v
			}
		}
	}
	return out
}

// Cloudflare's clearance cookie set on one answer goes out on the next
// request to that host, whichever client sends it, and stops when it
// expires; it never reaches a client.
func TestCloudflareCookieKeptPerHost(t *testing.T) {
	var n atomic.Int32
	up := pt.NewUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if n.Add(1) == 1 {
			w.Header().Add("Set-Cookie", "cf_clearance=clear-1; Path=/; Max-Age=1; HttpOnly; SameSite=None")
			w.Header().Add("Set-Cookie", "__cf_bm=bm-1; Path=/; Max-Age=1800; HttpOnly")
			w.Header().Add("Set-Cookie", "other=x; Path=/elsewhere")
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok","refusal":null},"logprobs":null,"finish_reason":"stop"}]}`)
	})
	reg := registry(t, up)
	r1 := upstreamtest.Chat(t, reg, chatBody)
	if _, ok := r1.Headers["Set-Cookie"]; ok || r1.Status != 200 {
		t.Fatalf("upstream cookie relayed to the client: %v", r1.Headers)
	}
	set := time.Now()
	upstreamtest.Chat(t, reg, chatBody)
	c2 := cookieNames(up.Requests()[1].Header)
	if c2["cf_clearance"] != "clear-1" || c2["__cf_bm"] != "bm-1" || c2["other"] != "" {
		t.Fatalf("request 2 cookies %v", c2)
	}
	// After Max-Age=1 the clearance is gone, the other cookie stays.
	time.Sleep(time.Until(set.Add(1100 * time.Millisecond)))
	upstreamtest.Chat(t, reg, chatBody)
	c3 := cookieNames(up.Requests()[2].Header)
	if _, ok := c3["cf_clearance"]; ok || c3["__cf_bm"] != "bm-1" {
		t.Fatalf("request 3 cookies %v", c3)
	}
}

func TestRedirectFollowedForNonStream(t *testing.T) {
	up := pt.NewUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.URL.Path == "/v1/chat/completions" {
			w.Header().Set("Set-Cookie", "route=r1; Path=/")
			w.Header().Set("Location", "/v2/chat/completions")
			w.WriteHeader(307)
			return
		}
		pt.OpenAIAnswer("moved")(w, r, body)
	})
	reg := registry(t, up)
	r := upstreamtest.Chat(t, reg, chatBody)
	if r.Status != 200 || !strings.Contains(r.Body, "moved") {
		t.Fatalf("status %d body %s", r.Status, r.Body)
	}
	reqs := up.Requests()
	if len(reqs) != 2 || reqs[1].Path != "/v2/chat/completions" || pt.RequestModel(reqs[1].Body) != "m" {
		t.Fatalf("requests %+v", reqs)
	}
	if cookieNames(reqs[1].Header)["route"] != "r1" || reqs[1].Header.Get("Authorization") != "Bearer k" {
		t.Fatalf("redirected request headers %v", reqs[1].Header)
	}
	// A redirect loop stops after 5 hops.
	up.SetHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Location", "/v1/chat/completions")
		w.WriteHeader(302)
	})
	before := len(up.Requests())
	r = upstreamtest.Chat(t, reg, chatBody)
	if r.Status == 200 || len(up.Requests())-before != 6 {
		t.Fatalf("loop: status %d after %d calls", r.Status, len(up.Requests())-before)
	}
}

// A stream call does not follow redirects: the client gets a 502 that
// says where to point api_base, and nothing is retried.
func TestRedirectOfStreamIsReported(t *testing.T) {
	up := pt.NewUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Location", "/v2/chat/completions?token=secret")
		w.WriteHeader(308)
	})
	r := upstreamtest.Chat(t, registry(t, up), `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`)
	if r.Status != 502 || !strings.Contains(r.Body, "upstream_redirect") || !strings.Contains(r.Body, "/v2/chat/completions") || strings.Contains(r.Body, "secret") {
		t.Fatalf("status %d body %s", r.Status, r.Body)
	}
	if n := len(up.Requests()); n != 1 {
		t.Fatalf("upstream calls %d", n)
	}
}
