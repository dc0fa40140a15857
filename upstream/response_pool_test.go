package upstream

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unsafe"

	"github.com/llmedge/llmedge/config"
)

// Responses are pooled across routes and providers, and so is their SSE
// scanner, whose event size cap survives Reset. The Anthropic path
// created it with the 1 MiB default, so an OpenAI stream later served by
// that Response failed on events past 1 MiB that transport.MaxStreamEvent (16 MiB)
// allows — depending on which call the pool had handed the Response to
// first.
func TestPooledScannerKeepsStreamEventCap(t *testing.T) {
	big := strings.Repeat("x", 2<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		if strings.HasSuffix(r.URL.Path, "/v1/messages") {
			fmt.Fprint(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude\",\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\n")
			fmt.Fprint(w, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
			return
		}
		fmt.Fprint(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[{"index":0,"delta":{"content":"`+big+`"},"finish_reason":null}]}`+"\n\n")
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	defer srv.Close()
	cfg := &config.Config{Deployments: []*config.Deployment{
		{ModelName: "claude", ID: "claude-0", Model: "anthropic/claude", Provider: "anthropic", UpstreamModel: "claude", APIBase: srv.URL, APIKey: "k"},
		{Index: 1, ModelName: "gpt", ID: "gpt-1", Model: "openai/gpt", Provider: "openai", UpstreamModel: "gpt", APIBase: srv.URL + "/v1", APIKey: "k"},
	}}
	reg, err := NewRegistry(cfg, Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	out := new(Response)
	for _, model := range []string{"claude", "gpt"} {
		body := `{"model":"` + model + `","stream":true,"max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`
		i := strings.Index(body, `"`+model+`"`)
		req := &ChatRequest{Body: []byte(body), ModelStart: i, ModelEnd: i + len(model) + 2, Model: []byte(model), Stream: true, Cancel: &Cancel{}}
		if err := reg.Chat(reg.Lookup([]byte(model)), req, out); err != nil {
			t.Fatalf("%s: %v", model, err)
		}
		var w bufWriter
		if err := out.Stream.Relay(&w); err != nil {
			t.Fatalf("%s: relay: %v", model, err)
		}
		if model == "gpt" && !strings.Contains(w.String(), big) {
			t.Fatalf("big event not relayed")
		}
	}
	out.X.Release(&out.Resp)
}

// A Response is held for the whole of a stream, so its translation
// state for clients of another API (~1.5 KiB) is taken only by a call
// that translates and given back when the Response is reset: a
// same-API call's Response fits the 2,688-byte size class, not 4,096.
func TestResponseTakesTranslationStateOnlyToTranslate(t *testing.T) {
	if n := unsafe.Sizeof(Response{}); n > 2688 {
		t.Errorf("a Response is %d bytes: past the 2,688-byte size class (what is held inline that only some calls use?)", n)
	}
	r := AcquireResponse()
	defer ReleaseResponse(r)
	if r.cx != nil {
		t.Fatal("a fresh Response holds translation state")
	}
	cx := r.xlat()
	if cx == nil || r.xlat() != cx {
		t.Fatal("xlat does not keep the state it took for the call's attempts")
	}
	cx.history = []byte("turns")
	ResetResponse(r)
	if r.cx != nil {
		t.Fatal("a reset Response kept its translation state")
	}
	if got := r.xlat(); len(got.history) != 0 {
		t.Fatalf("translation state came back from the pool unreset: %q", got.history)
	}
}
