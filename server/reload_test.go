package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
)

func TestReloadInvalidKeepsRunningConfig(t *testing.T) {
	next := make(chan func() (*config.Config, error), 1)
	opts := Options{ObserveOptions: ObserveOptions{LoadConfig: func() (*config.Config, error) { return (<-next)() }}}
	gw, _ := startObserved(t, testConfig(dep(0, "old", "mock/old", "", "")), opts)
	body := func(model string) string {
		return `{"model":"` + model + `","messages":[{"role":"user","content":"hi"}]}`
	}

	next <- func() (*config.Config, error) { return nil, errors.New("config: model_list[0].model_name: required") }
	r := rawPost(t, gw, "/config/reload", "", testMasterKey)
	if r.StatusCode != 400 || !strings.Contains(r.Body, "model_list[0].model_name") {
		t.Fatalf("parse error reload: %d %s", r.StatusCode, r.Body)
	}
	next <- func() (*config.Config, error) { return testConfig(dep(0, "new", "openai/x", "not a url", "")), nil }
	if r := rawPost(t, gw, "/config/reload", "", testMasterKey); r.StatusCode != 400 || !strings.Contains(r.Body, "api_base") {
		t.Fatalf("registry error reload: %d %s", r.StatusCode, r.Body)
	}
	if r := rawPost(t, gw, "/v1/chat/completions", body("old"), testMasterKey); r.StatusCode != 200 {
		t.Fatalf("old config lost after rejected reloads: %d", r.StatusCode)
	}
	if r := rawPost(t, gw, "/config/reload", "", "wrong"); r.StatusCode != 401 {
		t.Fatalf("reload without master key: %d", r.StatusCode)
	}
	next <- func() (*config.Config, error) { return testConfig(dep(0, "new", "mock/new", "", "")), nil }
	if r := rawPost(t, gw, "/config/reload", "", testMasterKey); r.StatusCode != 200 || !strings.Contains(r.Body, `"models":1`) {
		t.Fatalf("valid reload: %d %s", r.StatusCode, r.Body)
	}
	if r := rawPost(t, gw, "/v1/chat/completions", body("new"), testMasterKey); r.StatusCode != 200 {
		t.Fatalf("new model after reload: %d", r.StatusCode)
	}
	if r := rawPost(t, gw, "/v1/chat/completions", body("old"), testMasterKey); r.StatusCode != 404 {
		t.Fatalf("old model after reload: %d", r.StatusCode)
	}
	if r := rawRequest(t, gw, "GET", "/v1/models", "", "Authorization: Bearer "+testMasterKey); !strings.Contains(r.Body, `"new"`) || strings.Contains(r.Body, `"old"`) {
		t.Fatalf("/v1/models after reload: %s", r.Body)
	}
	m := scrape(t, gw)
	wantSeries(t, m, `llmedge_config_reloads_total{result="failure"}`, 2)
	wantSeries(t, m, `llmedge_config_reloads_total{result="success"}`, 1)
}

func TestReloadUnder100StreamsLosesNone(t *testing.T) {
	const n = 100
	up := newFakeOpenAI(t)
	gate := make(chan struct{})
	words := []string{"alpha", "beta", "gamma"}
	gated := streamWords(words, 0, gate)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, b []byte) {
		if upstreamModel(b) == "m2" {
			answerJSON("new")(w, r, b)
			return
		}
		gated(w, r, b)
	})
	oldCfg := testConfig(dep(0, "m", "openai/m", up.base(), "k-old"))
	newCfg := testConfig(dep(0, "m2", "openai/m2", up.base(), "k-new"))
	newCfg.General.MasterKey = "sk-new-master"
	opts := Options{ObserveOptions: ObserveOptions{LoadConfig: func() (*config.Config, error) { return newCfg, nil }}}
	gw, _ := startObserved(t, oldCfg, opts)

	type result struct {
		content string
		err     error
	}
	results := make(chan result, n)
	started := make(chan struct{}, n)
	client := sdk(gw, testMasterKey)
	for i := 0; i < n; i++ {
		go func() {
			p := userMsg("go")
			p.Model = "m"
			s := client.Chat.Completions.NewStreaming(context.Background(), p)
			var sb strings.Builder
			first := true
			for s.Next() {
				if first {
					started <- struct{}{}
					first = false
				}
				if len(s.Current().Choices) > 0 {
					sb.WriteString(s.Current().Choices[0].Delta.Content)
				}
			}
			if first {
				started <- struct{}{}
			}
			results <- result{sb.String(), s.Err()}
		}()
	}
	deadline := time.After(15 * time.Second)
	for i := 0; i < n; i++ {
		select {
		case <-started:
		case <-deadline:
			t.Fatalf("only %d of %d streams started", i, n)
		}
	}
	if got := gw.srv.InFlight(); got != n {
		t.Fatalf("in flight %d, want %d", got, n)
	}
	if r := rawPost(t, gw, "/config/reload", "", testMasterKey); r.StatusCode != 200 {
		t.Fatalf("reload: %d %s", r.StatusCode, r.Body)
	}
	// New requests use the new config (new master key, new model)...
	if r := rawPost(t, gw, "/v1/chat/completions", `{"model":"m2","messages":[{"role":"user","content":"hi"}]}`, "sk-new-master"); r.StatusCode != 200 {
		t.Fatalf("new config not in force: %d %s", r.StatusCode, r.Body)
	}
	if r := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, testMasterKey); r.StatusCode != 401 {
		t.Fatalf("old master key still accepted: %d", r.StatusCode)
	}
	// ...while the 100 old streams finish on the old one.
	close(gate)
	for i := 0; i < n; i++ {
		select {
		case r := <-results:
			if r.err != nil {
				t.Fatalf("stream %d failed: %v", i, r.err)
			}
			if r.content != "alpha beta gamma" {
				t.Fatalf("stream %d content %q", i, r.content)
			}
		case <-deadline:
			t.Fatalf("only %d of %d streams finished", i, n)
		}
	}
	// Old streams went out with the old deployment's key.
	for _, rq := range up.requests() {
		if upstreamModel(rq.Body) == "m" && rq.Header.Get("Authorization") != "Bearer k-old" {
			t.Fatalf("old stream used %q", rq.Header.Get("Authorization"))
		}
	}
	waitFor(t, 3*time.Second, "streams closed", func() bool { return gw.srv.InFlight() == 0 })
	m := scrape(t, gw)
	wantSeries(t, m, `llmedge_requests_total{model_name="m",deployment="m-0",status="2xx",stream="true"}`, n)
	wantSeries(t, m, `llmedge_streams_open`, 0)
}
