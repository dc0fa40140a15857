package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/testredis"
	"github.com/llmedge/llmedge/upstream"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
)

// replica is one of the test's gateways, started from its own config
// file (a reload re-reads it).
type replica struct {
	*gateway
	path string
}

func startReplica(t *testing.T, text string) *replica {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	load := func() (*config.Config, error) {
		return config.Load(path, config.Options{Getenv: func(string) (string, bool) { return "", false }})
	}
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	ro := upstream.Options{LookupEnv: func(string) (string, bool) { return "", false }}
	reg, err := upstream.NewRegistry(cfg, ro)
	if err != nil {
		t.Fatal(err)
	}
	srv := New(cfg, reg, Options{ObserveOptions: ObserveOptions{Registry: ro, LoadConfig: load}})
	base := serveOnLoopback(t, srv)
	return &replica{gateway: &gateway{srv: srv, reg: reg, addr: strings.TrimPrefix(base, "http://")}, path: path}
}

// cooling reports whether the replica's running registry has deployment
// id cooling down.
func (r *replica) cooling(id string) bool {
	for _, g := range r.srv.Registry().Groups() {
		for _, d := range g.Deployments {
			if d.ID == id {
				return !d.CoolingDownUntil().IsZero()
			}
		}
	}
	return false
}

type readiness struct {
	ConfigVersion string `json:"config_version"`
	Replica       string `json:"replica"`
	SharedState   struct {
		Healthy bool `json:"healthy"`
	} `json:"shared_state"`
	RateLimits struct {
		Healthy bool `json:"healthy"`
	} `json:"rate_limits"`
	Replicas []struct {
		Replica       string `json:"replica"`
		ConfigVersion string `json:"config_version"`
	} `json:"replicas"`
}

func (r *replica) readiness(t *testing.T) readiness {
	t.Helper()
	resp := rawRequest(t, r.gateway, "GET", "/health/readiness", "")
	var rd readiness
	if resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &rd) != nil {
		t.Fatalf("readiness %d: %s", resp.StatusCode, resp.Body)
	}
	return rd
}

// Three replicas on loopback sharing one redis-server (started by the
// test, which kills and restarts it): a cooldown started on one is
// seen by the others within a second, a key's rpm holds exactly across
// them, a Responses conversation stored by one is continued on another
// and read on the third, one POST /config/reload reloads all three, and
// through a Redis outage each goes on alone and shares again when Redis
// is back.
func TestThreeReplicasShareState(t *testing.T) {
	rd := testredis.Start(t)
	good := newFakeOpenAI(t)
	broken := newFakeOpenAI(t) // a revoked key: 401 cools it down at once
	broken.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		_, _ = w.Write([]byte(`{"error":{"message":"invalid api key","type":"invalid_request_error","code":"invalid_api_key"}}`))
	})
	var lateFails atomic.Bool // the third deployment breaks after the Redis restart
	late := newFakeOpenAI(t)
	late.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		if lateFails.Load() {
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"error":{"message":"invalid api key","type":"invalid_request_error"}}`))
			return
		}
		answerJSON("ok")(w, r, body)
	})
	key := randomKey(t)
	cfgText := func(extra string) string {
		return fmt.Sprintf(`model_list:
  - {model_name: m, litellm_params: {model: openai/m, api_base: %q, api_key: k}, model_info: {id: m-good}}
  - {model_name: m, litellm_params: {model: openai/m, api_base: %q, api_key: k}, model_info: {id: m-broken}}
  - {model_name: m, litellm_params: {model: openai/m, api_base: %q, api_key: k}, model_info: {id: m-late}}
  - {model_name: chat, litellm_params: {model: openai/c, api_base: %[1]q, api_key: k}, model_info: {id: c, mode: chat}}
%[4]s
general_settings:
  master_key: %[5]s
  api_keys: [{key: %[6]s, name: team, rpm_limit: 9}]
router_settings:
  redis_host: 127.0.0.1
  redis_port: %[7]s
  cooldown_time: 60
`, good.base(), broken.base(), late.base(), extra, testMasterKey, key, rd.Port)
	}
	reps := []*replica{startReplica(t, cfgText("")), startReplica(t, cfgText("")), startReplica(t, cfgText(""))}
	for _, r := range reps {
		waitFor(t, 5*time.Second, "replica subscribed", func() bool {
			rn := r.srv.replicaNode.Load()
			return rn != nil && len(rn.node.Replicas()) == 3
		})
	}

	// A cooldown on replica 0 is seen by 1 and 2 within a second.
	// (The client whose call reached it gets its 401: not retried.)
	for i := 0; i < 50 && len(broken.requests()) == 0; i++ {
		rawPost(t, reps[0].gateway, "/v1/chat/completions", hostileBody(""), testMasterKey)
	}
	if !reps[0].cooling("m-broken") {
		t.Fatal("replica 0 did not cool m-broken down after its 401")
	}
	cooled := time.Now()
	for _, r := range reps[1:] {
		waitFor(t, time.Second-time.Since(cooled), "cooldown seen by another replica", func() bool { return r.cooling("m-broken") })
	}
	seen := len(broken.requests())
	for i := 0; i < 20; i++ {
		if r := rawPost(t, reps[1+i%2].gateway, "/v1/chat/completions", hostileBody(""), testMasterKey); r.StatusCode != 200 {
			t.Fatalf("status %d: %s", r.StatusCode, r.Body)
		}
	}
	if n := len(broken.requests()); n != seen {
		t.Fatalf("replicas 1 and 2 still called the cooled-down deployment %d times", n-seen)
	}

	// The key's rpm 9 holds exactly across the three.
	awayFromMinuteEnd()
	ok := 0
	for i := 0; i < 15; i++ {
		switch r := rawPost(t, reps[i%3].gateway, "/v1/chat/completions", hostileBody(""), key); r.StatusCode {
		case 200:
			ok++
		case 429:
		default:
			t.Fatalf("status %d: %s", r.StatusCode, r.Body)
		}
	}
	if ok != 9 {
		t.Fatalf("three replicas admitted %d requests of a key with rpm_limit 9", ok)
	}

	// A conversation stored by replica 0 (the Responses API translated
	// to chat) is continued on replica 1 and read on replica 2.
	ctx := context.Background()
	c0, c1, c2 := sdk(reps[0].gateway, testMasterKey), sdk(reps[1].gateway, testMasterKey), sdk(reps[2].gateway, testMasterKey)
	first, err := c0.Responses.New(ctx, responses.ResponseNewParams{Model: "chat",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Tell me a story")}})
	if err != nil {
		t.Fatal(err)
	}
	before := len(good.requests())
	second, err := c1.Responses.New(ctx, responses.ResponseNewParams{Model: "chat",
		PreviousResponseID: openai.String(first.ID),
		Input:              responses.ResponseNewParamsInputUnion{OfString: openai.String("And then?")}})
	if err != nil {
		t.Fatalf("continuing replica 0's response on replica 1: %v", err)
	}
	var sent struct {
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	}
	if reqs := good.requests(); len(reqs) != before+1 || json.Unmarshal(reqs[before].Body, &sent) != nil || len(sent.Messages) != 3 ||
		sent.Messages[0].Content != "Tell me a story" || sent.Messages[1].Role != "assistant" || sent.Messages[1].Content != first.OutputText() ||
		sent.Messages[2].Content != "And then?" {
		t.Fatalf("replica 1 sent upstream: %s", reqs[len(reqs)-1].Body)
	}
	got, err := c2.Responses.Get(ctx, second.ID, responses.ResponseGetParams{})
	if err != nil || got.PreviousResponseID != first.ID || got.OutputText() != second.OutputText() {
		t.Fatalf("replica 2 reading replica 1's response: %+v, %v", got, err)
	}

	// One reload call reloads all three, each from its own file.
	next := cfgText("  - {model_name: added, litellm_params: {model: mock/added, mock_response: hi}}")
	for _, r := range reps {
		if err := os.WriteFile(r.path, []byte(next), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := reps[0].readiness(t).ConfigVersion
	resp := rawRequest(t, reps[0].gateway, "POST", "/config/reload", "", "Authorization: Bearer "+testMasterKey)
	var answer struct {
		ConfigVersion string `json:"config_version"`
		ReplicasAsked bool   `json:"replicas_asked"`
	}
	if resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &answer) != nil || !answer.ReplicasAsked || answer.ConfigVersion == old {
		t.Fatalf("reload: %d %s", resp.StatusCode, resp.Body)
	}
	for i, r := range reps {
		waitFor(t, 3*time.Second, fmt.Sprintf("replica %d reloaded", i), func() bool {
			return r.srv.Config().Models() != nil && r.srv.Registry().Group("added") != nil
		})
	}
	waitFor(t, 3*time.Second, "every replica listed with the new version", func() bool {
		rd := reps[2].readiness(t)
		n := 0
		for _, x := range rd.Replicas {
			if x.ConfigVersion == answer.ConfigVersion {
				n++
			}
		}
		return n == 3
	})

	// Redis killed: every replica serves on its own state and says so.
	rd.Kill()
	for i, r := range reps {
		if x := rawPost(t, r.gateway, "/v1/chat/completions", hostileBody(""), testMasterKey); x.StatusCode != 200 {
			t.Fatalf("replica %d without Redis: %d %s", i, x.StatusCode, x.Body)
		}
		waitFor(t, 3*time.Second, "readiness to show the shared state down", func() bool { return !r.readiness(t).SharedState.Healthy })
	}
	// Redis back: shared again; a new cooldown travels as before.
	rd.Restart()
	for _, r := range reps {
		waitFor(t, 5*time.Second, "shared state healthy again", func() bool { return r.readiness(t).SharedState.Healthy })
	}
	lateFails.Store(true)
	for i := 0; i < 50 && !reps[2].cooling("m-late"); i++ {
		rawPost(t, reps[2].gateway, "/v1/chat/completions", hostileBody(""), testMasterKey)
	}
	if !reps[2].cooling("m-late") {
		t.Fatal("replica 2 did not cool m-late down")
	}
	cooled = time.Now()
	for _, r := range reps[:2] {
		waitFor(t, time.Second-time.Since(cooled), "cooldown after the restart seen by another replica", func() bool { return r.cooling("m-late") })
	}
}
