package server

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"
)

var labelRE = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)

func TestTimingHeadersOnEveryChatResponse(t *testing.T) {
	up := newFakeOpenAI(t)
	gw, _ := startObserved(t, testConfig(dep(0, "m", "openai/m", up.base(), "k")), Options{})
	check := func(name string, r rawResponse, modelID string) {
		t.Helper()
		if r.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no x-request-id", name)
		}
		total, err1 := strconv.ParseFloat(r.Header.Get("X-Llmedge-Response-Duration-Ms"), 64)
		over, err2 := strconv.ParseFloat(r.Header.Get("X-Llmedge-Overhead-Duration-Ms"), 64)
		if err1 != nil || err2 != nil || total < 0 || over < 0 || over > total {
			t.Errorf("%s: durations %q %q", name, r.Header.Get("X-Llmedge-Response-Duration-Ms"), r.Header.Get("X-Llmedge-Overhead-Duration-Ms"))
		}
		if got := r.Header.Get("X-Llmedge-Model-Id"); got != modelID {
			t.Errorf("%s: model id %q, want %q", name, got, modelID)
		}
	}
	body := `{"model":"m","messages":[{"role":"user","content":"x"}]}`
	check("json", rawPost(t, gw, "/v1/chat/completions", body, testMasterKey), "m-0")
	check("stream", rawPost(t, gw, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`, testMasterKey), "m-0")
	check("401", rawPost(t, gw, "/v1/chat/completions", body, "nope"), "")
	// The client's request id is kept.
	r := rawRequest(t, gw, "POST", "/v1/chat/completions", body, "Authorization: Bearer "+testMasterKey, "X-Request-Id: client-id-42")
	if got := r.Header.Get("X-Request-Id"); got != "client-id-42" {
		t.Errorf("x-request-id = %q", got)
	}
	// Upstream time is not llmedge's overhead.
	up.setHandler(func(w http.ResponseWriter, r *http.Request, b []byte) {
		time.Sleep(60 * time.Millisecond)
		answerJSON("slow")(w, r, b)
	})
	r = rawPost(t, gw, "/v1/chat/completions", body, testMasterKey)
	total, _ := strconv.ParseFloat(r.Header.Get("X-Llmedge-Response-Duration-Ms"), 64)
	over, _ := strconv.ParseFloat(r.Header.Get("X-Llmedge-Overhead-Duration-Ms"), 64)
	if total < 60 || over > total-55 {
		t.Errorf("slow upstream: total %vms overhead %vms; the 60ms upstream wait must not count as overhead", total, over)
	}
}
