package server

import (
	"bufio"
	"context"
	"errors"
	"github.com/openai/openai-go/v3"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The fakes below answer the way OpenAI's API reference documents
// POST /v1/embeddings, POST /v1/completions and the Responses API
// (create, streaming events, retrieve, delete).

const testResponseID = "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b"

// rawOpen sends a request and reads the response head, leaving the
// chunked body to be read event by event.
func rawOpen(t *testing.T, gw *gateway, method, path, body string, headers ...string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	writeRequest(t, conn, method, path, body, append(headers, "Authorization: Bearer "+testMasterKey)...)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content-type %q", ct)
	}
	return conn, bufio.NewReader(&chunkedReader{br: br})
}

// routedFake answers each OpenAI route the way its reference documents.
func routedFake(t *testing.T, gate chan struct{}) *fakeOpenAI {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch {
		case r.URL.Path == "/v1/embeddings":
			embeddingAnswer(w, r, body)
		case r.URL.Path == "/v1/completions":
			completionAnswer([]string{"This", "is", "indeed", "a", "test"})(w, r, body)
		case strings.HasPrefix(r.URL.Path, "/v1/responses"):
			responsesAPI([]string{"In", "a", "peaceful", "grove"}, gate)(w, r, body)
		default:
			answerJSON("chat")(w, r, body)
		}
	})
	return up
}

// A route the model cannot serve is a 400 naming model and route, before
// any upstream call.
func TestRouteNotServedIs400(t *testing.T) {
	up := routedFake(t, nil)
	e := dep(0, "embed", "openai/text-embedding-3-small", up.base(), "k")
	e.ModelInfo = map[string]any{"mode": "embedding"}
	codex := dep(1, "codex", "openai/gpt-5-codex", up.base(), "k")
	codex.ModelInfo = map[string]any{"mode": "responses"}
	gw := startGateway(t, testConfig(e, codex,
		dep(2, "claude", "anthropic/claude-sonnet-4-5", "", "k"),
		dep(3, "ds", "deepseek/deepseek-chat", up.base(), "k"),
		dep(4, "mock", "mock/m", "", ""),
	))
	cases := []struct{ path, model, want string }{
		{"/v1/chat/completions", "embed", `model \"embed\" has model_info.mode \"embedding\": it does not serve POST /v1/chat/completions; call POST /v1/embeddings`},
		{"/v1/responses", "embed", `does not serve POST /v1/responses`},
		{"/v1/embeddings", "codex", `model \"codex\" has model_info.mode \"responses\": it does not serve POST /v1/embeddings; call POST /v1/responses`},
		{"/v1/chat/completions", "codex", `does not serve POST /v1/chat/completions`},
		{"/v1/embeddings", "claude", `model \"claude\" (provider \"anthropic\") does not serve POST /v1/embeddings`},
		{"/v1/completions", "mock", `model \"mock\" (provider \"mock\") does not serve POST /v1/completions`},
	}
	for _, tc := range cases {
		r := rawPost(t, gw, tc.path, `{"model":"`+tc.model+`","input":"x","prompt":"x","messages":[{"role":"user","content":"x"}]}`, testMasterKey)
		if r.StatusCode != 400 || !strings.Contains(r.Body, tc.want) || !strings.Contains(r.Body, `"param":"model"`) || !strings.Contains(r.Body, `"code":"route_not_supported"`) {
			t.Errorf("%s %s: %d %s", tc.path, tc.model, r.StatusCode, r.Body)
		}
	}
	if n := len(up.requests()); n != 0 {
		t.Fatalf("upstream called %d times", n)
	}
	// And the SDK sees a 400 BadRequest with the message.
	client := sdk(gw, testMasterKey)
	_, err := client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{Model: "claude", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")}})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != "model" {
		t.Fatalf("sdk error %v", err)
	}
}

// In a group mixing an embedding model and a chat model, each request
// goes to the deployment that serves its route.
func TestMixedGroupPicksServingDeployment(t *testing.T) {
	up := routedFake(t, nil)
	e := dep(0, "m", "openai/text-embedding-3-small", up.base(), "k")
	e.ModelInfo = map[string]any{"mode": "embedding"}
	c := dep(1, "m", "openai/gpt-4o", up.base(), "k")
	c.ModelInfo = map[string]any{"mode": "chat"}
	gw := startGateway(t, testConfig(e, c))
	for i := 0; i < 6; i++ {
		r := rawPost(t, gw, "/v1/embeddings", `{"model":"m","input":"x"}`, testMasterKey)
		if r.StatusCode != 200 || r.Header.Get("X-Llmedge-Model-Id") != "m-0" {
			t.Fatalf("embeddings: %d via %s: %s", r.StatusCode, r.Header.Get("X-Llmedge-Model-Id"), r.Body)
		}
		r = rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, testMasterKey)
		if r.StatusCode != 200 || r.Header.Get("X-Llmedge-Model-Id") != "m-1" {
			t.Fatalf("chat: %d via %s: %s", r.StatusCode, r.Header.Get("X-Llmedge-Model-Id"), r.Body)
		}
	}
	for _, s := range up.requests() {
		if m := upstreamModel(s.Body); (s.Path == "/v1/embeddings") != (m == "text-embedding-3-small") {
			t.Fatalf("%s went to %s", s.Path, m)
		}
	}
}

// The new routes share chat's retry loop: a failing deployment is left
// for another member of the group.
func TestNewRoutesRetryElsewhere(t *testing.T) {
	bad := newFakeOpenAI(t)
	bad.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) { w.WriteHeader(503) })
	good := routedFake(t, nil)
	gw := startGateway(t, testConfig(dep(0, "m", "openai/m", bad.base(), "k"), dep(1, "m", "openai/m", good.base(), "k")))
	for _, c := range []struct{ path, body string }{
		{"/v1/embeddings", `{"model":"m","input":"x"}`},
		{"/v1/completions", `{"model":"m","prompt":"x"}`},
		{"/v1/responses", `{"model":"m","input":"x"}`},
	} {
		for i := 0; i < 4; i++ {
			r := rawPost(t, gw, c.path, c.body, testMasterKey)
			if r.StatusCode != 200 || r.Header.Get("X-Llmedge-Model-Id") != "m-1" {
				t.Fatalf("%s: %d via %s: %s", c.path, r.StatusCode, r.Header.Get("X-Llmedge-Model-Id"), r.Body)
			}
		}
	}
}

// Memory routing applies to every route: the upstream gets x-sm-user-id.
func TestNewRoutesCarryMemoryUserID(t *testing.T) {
	up := routedFake(t, nil)
	cfg := testConfig(dep(0, "m", "openai/gpt-4o", up.base(), "k"))
	cfg.UserIDMappings.Configured = true
	gw := startGateway(t, cfg)
	auth := "Authorization: Bearer " + testMasterKey
	rawRequest(t, gw, "POST", "/v1/embeddings", `{"model":"m","input":"x"}`, auth, "x-memory-user-id: alice")
	rawRequest(t, gw, "POST", "/v1/completions", `{"model":"m","prompt":"x"}`, auth, "x-memory-user-id: alice")
	rawRequest(t, gw, "POST", "/v1/responses", `{"model":"m","input":"x"}`, auth, "x-memory-user-id: alice")
	rawRequest(t, gw, "GET", "/v1/responses/"+testResponseID, "", auth, "x-memory-user-id: alice")
	reqs := up.requests()
	if len(reqs) != 4 {
		t.Fatalf("upstream saw %d requests", len(reqs))
	}
	for _, r := range reqs {
		if got := r.Header.Get("X-Sm-User-Id"); got != "alice" {
			t.Errorf("%s: x-sm-user-id = %q", r.Path, got)
		}
	}
}
