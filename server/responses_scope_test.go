package server

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/keys/keystest"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
	"github.com/redis/go-redis/v9"
)

// Stored responses (translated Responses API calls) are their caller's:
// another key's GET, DELETE and previous_response_id answer exactly as
// for an id never stored, and gateways of different master keys on one
// Redis reach none of each other's.

const (
	scopeKeyA = "sk-scope-a-0123456789"
	scopeKeyB = "sk-scope-b-0123456789"
)

// scopeConfig is a gateway with masterKey and the api_keys a and b in
// front of an anthropic/ deployment (so /v1/responses is translated and
// stored by llmedge); redisAddr, when set, stores on that Redis.
func scopeConfig(t *testing.T, masterKey string, an *fakeOpenAI, redisAddr ...string) *config.Config {
	cfg := limitsConfig(map[string]any{"api_keys": []any{
		map[string]any{"key": scopeKeyA, "name": "a"},
		map[string]any{"key": scopeKeyB, "name": "b"},
	}}, anthropicDep(0, "claude", an))
	cfg.General.MasterKey = masterKey
	if len(redisAddr) > 0 {
		host, port, _ := strings.Cut(redisAddr[0], ":")
		setSettings(cfg, "router_settings", map[string]any{"redis_host": host, "redis_port": port})
	}
	return cfg
}

func newResponse(ctx context.Context, c openai.Client, prev, input string) (*responses.Response, error) {
	p := responses.ResponseNewParams{Model: "claude", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String(input)}}
	if prev != "" {
		p.PreviousResponseID = openai.String(prev)
	}
	return c.Responses.New(ctx, p)
}

// shownError is what an API error shows a client.
type shownError struct {
	StatusCode                 int
	Code, Type, Param, Message string
}

// apiError is err's OpenAI error with the response id in its message
// replaced by "ID", so a foreign id's error compares with an unknown one's.
func apiError(t *testing.T, what string, err error, id string) shownError {
	t.Helper()
	var e *openai.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: want an API error, got %v", what, err)
	}
	return shownError{StatusCode: e.StatusCode, Code: e.Code, Type: e.Type, Param: e.Param, Message: strings.ReplaceAll(e.Message, id, "ID")}
}

// sameAsUnknown fails unless GET, DELETE and previous_response_id of id
// through c answer exactly what they answer for an id never stored.
func sameAsUnknown(t *testing.T, ctx context.Context, who string, c openai.Client, id string) {
	t.Helper()
	unknown := "resp_" + strings.Repeat("0", len(id)-len("resp_"))
	calls := []struct {
		name string
		do   func(id string) error
	}{
		{"GET", func(id string) error { _, err := c.Responses.Get(ctx, id, responses.ResponseGetParams{}); return err }},
		{"DELETE", func(id string) error { return c.Responses.Delete(ctx, id) }},
		{"previous_response_id", func(id string) error { _, err := newResponse(ctx, c, id, "go on"); return err }},
	}
	for _, call := range calls {
		got := apiError(t, who+" "+call.name, call.do(id), id)
		want := apiError(t, who+" "+call.name+" of an unknown id", call.do(unknown), unknown)
		if got != want {
			t.Fatalf("%s %s of another's response: %+v; of an unknown id: %+v", who, call.name, got, want)
		}
		if want.StatusCode != 404 && call.name != "previous_response_id" || call.name == "previous_response_id" && want.StatusCode != 400 {
			t.Fatalf("%s %s: status %d", who, call.name, want.StatusCode)
		}
	}
}

func TestStoredResponsesAreTheirCallers(t *testing.T) {
	for _, store := range []string{"memory", "redis"} {
		t.Run(store, func(t *testing.T) {
			an := newFakeOpenAI(t)
			an.setHandler(anthropicJSON(`[{"type":"text","text":"Once upon a time."}]`, "end_turn", 11, 5, 0, 0))
			var cfg *config.Config
			if store == "redis" {
				host, port := testRedis(t)
				cfg = scopeConfig(t, testMasterKey, an, host+":"+port)
			} else {
				cfg = scopeConfig(t, testMasterKey, an)
			}
			gw := startGateway(t, cfg)
			a, b, admin := sdk(gw, scopeKeyA), sdk(gw, scopeKeyB), sdk(gw, testMasterKey)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()

			first, err := newResponse(ctx, a, "", "Tell me a story")
			if err != nil {
				t.Fatal(err)
			}
			sent := len(an.requests())
			sameAsUnknown(t, ctx, "key b", b, first.ID)
			if n := len(an.requests()); n != sent {
				t.Fatalf("key b's continuation of key a's response went upstream (%d calls)", n-sent)
			}
			// The master key continues only its own, like any caller.
			if _, err := newResponse(ctx, admin, first.ID, "go on"); apiError(t, "master continuation", err, first.ID).Code != "previous_response_not_found" {
				t.Fatalf("master key continued key a's response: %v", err)
			}

			// Key b's DELETE left it: key a reads and continues it.
			if got, err := a.Responses.Get(ctx, first.ID, responses.ResponseGetParams{}); err != nil || got.OutputText() != "Once upon a time." {
				t.Fatalf("key a's get: %v", err)
			}
			an.setHandler(anthropicJSON(`[{"type":"text","text":"The end."}]`, "end_turn", 20, 3, 0, 0))
			second, err := newResponse(ctx, a, first.ID, "And then?")
			if err != nil || second.OutputText() != "The end." || !strings.Contains(string(an.requests()[len(an.requests())-1].Body), "Once upon a time.") {
				t.Fatalf("key a's continuation: %v", err)
			}
			sameAsUnknown(t, ctx, "key b", b, second.ID)

			// The master key reads and deletes any caller's.
			if got, err := admin.Responses.Get(ctx, second.ID, responses.ResponseGetParams{}); err != nil || got.OutputText() != "The end." {
				t.Fatalf("master get: %v", err)
			}
			if err := admin.Responses.Delete(ctx, second.ID); err != nil {
				t.Fatalf("master delete: %v", err)
			}
			if _, err := a.Responses.Get(ctx, second.ID, responses.ResponseGetParams{}); apiError(t, "get after delete", err, second.ID).StatusCode != 404 {
				t.Fatalf("deleted by the master key, still there: %v", err)
			}
			// Key a deletes its own.
			if err := a.Responses.Delete(ctx, first.ID); err != nil {
				t.Fatalf("key a's delete: %v", err)
			}
			if _, err := a.Responses.Get(ctx, first.ID, responses.ResponseGetParams{}); apiError(t, "get after delete", err, first.ID).StatusCode != 404 {
				t.Fatalf("deleted, still there: %v", err)
			}
		})
	}
}

// Two gateways with different master keys (and the same api_keys
// values) on one Redis: neither a key nor the master key of one reaches
// a response made on the other, and the responses live under different
// key prefixes.
func TestStoredResponsesTwoGatewaysOneRedis(t *testing.T) {
	host, port := testRedis(t)
	an := newFakeOpenAI(t)
	an.setHandler(anthropicJSON(`[{"type":"text","text":"Once upon a time."}]`, "end_turn", 11, 5, 0, 0))
	master1, master2 := randomKey(t), randomKey(t)
	gw1 := startGateway(t, scopeConfig(t, master1, an, host+":"+port))
	gw2 := startGateway(t, scopeConfig(t, master2, an, host+":"+port))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	r1, err := newResponse(ctx, sdk(gw1, scopeKeyA), "", "Tell me a story")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := newResponse(ctx, sdk(gw2, scopeKeyA), "", "Tell me a story")
	if err != nil {
		t.Fatal(err)
	}
	sameAsUnknown(t, ctx, "gateway 2's key a", sdk(gw2, scopeKeyA), r1.ID)
	sameAsUnknown(t, ctx, "gateway 2's master key", sdk(gw2, master2), r1.ID)
	sameAsUnknown(t, ctx, "gateway 1's master key", sdk(gw1, master1), r2.ID)
	for _, c := range []struct {
		c  openai.Client
		id string
	}{{sdk(gw1, scopeKeyA), r1.ID}, {sdk(gw1, master1), r1.ID}, {sdk(gw2, scopeKeyA), r2.ID}} {
		if _, err := c.c.Responses.Get(ctx, c.id, responses.ResponseGetParams{}); err != nil {
			t.Fatalf("own gateway's get of %s: %v", c.id, err)
		}
	}

	rdb := redis.NewClient(&redis.Options{Addr: host + ":" + port})
	defer rdb.Close()
	k1, _ := rdb.Keys(ctx, "llmedge:resp:*"+r1.ID).Result()
	k2, _ := rdb.Keys(ctx, "llmedge:resp:*"+r2.ID).Result()
	if len(k1) != 1 || len(k2) != 1 || k1[0] == "llmedge:resp:"+r1.ID ||
		strings.TrimSuffix(k1[0], r1.ID) == strings.TrimSuffix(k2[0], r2.ID) {
		t.Fatalf("keys not namespaced by gateway: %v %v", k1, k2)
	}
	for _, k := range append(k1, k2...) {
		if strings.Contains(k, master1) || strings.Contains(k, master2) {
			t.Fatalf("a master key in a Redis key: %s", k)
		}
	}
}

// Database virtual keys are callers like api_keys entries: one key's
// stored response is unknown to another.
func TestStoredResponsesOfDatabaseKeys(t *testing.T) {
	an := newFakeOpenAI(t)
	an.setHandler(anthropicJSON(`[{"type":"text","text":"Once upon a time."}]`, "end_turn", 11, 5, 0, 0))
	kc := openCache(t, keystest.URL(t, "sqlite"))
	t.Cleanup(func() { closeCache(t, kc) })
	gw := startKeyGateway(t, testConfig(anthropicDep(0, "claude", an)), kc)
	_, out := admin(t, gw, "POST", "/key/generate", map[string]any{})
	k1, _ := out["key"].(string)
	_, out = admin(t, gw, "POST", "/key/generate", map[string]any{})
	k2, _ := out["key"].(string)
	if k1 == "" || k2 == "" {
		t.Fatalf("keys not generated: %v", out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := newResponse(ctx, sdk(gw, k1), "", "Tell me a story")
	if err != nil {
		t.Fatal(err)
	}
	sameAsUnknown(t, ctx, "virtual key 2", sdk(gw, k2), r.ID)
	if _, err := newResponse(ctx, sdk(gw, k1), r.ID, "And then?"); err != nil {
		t.Fatalf("virtual key 1's continuation: %v", err)
	}
}
