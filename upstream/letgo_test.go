package upstream

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
)

// Once a stream has started, LetRequestGo leaves nothing of the answer
// referring to the client's body (request defaults merged in, a Claude
// client's request translated to chat, a Responses request passed
// through): the body is freed (its finalizer runs) while the stream is
// still to be relayed, and the stream then ends whole.
func TestLetRequestGoFreesTheClientBody(t *testing.T) {
	base := fakeUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		for _, d := range []string{`{"role":"assistant","content":"one"}`, `{"content":" two"}`} {
			fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt\",\"choices\":[{\"index\":0,\"delta\":%s,\"finish_reason\":null}]}\n\n", d)
		}
		fmt.Fprint(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
	})
	d := &config.Deployment{ModelName: "gpt", ID: "gpt-0", Model: "openai/gpt", Provider: "openai", UpstreamModel: "gpt", APIBase: base + "/v1", APIKey: "k",
		Defaults: []config.BodyDefault{{Key: "temperature", Value: []byte("0.2")}}}
	reg, err := NewRegistry(&config.Config{Deployments: []*config.Deployment{d}}, Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("x", 64<<10)
	for _, tc := range []struct {
		name, body, want string
		anthropic        bool
		route            Route
	}{
		{"chat with defaults", `{"model":"gpt","stream":true,"messages":[{"role":"user","content":"` + pad + `"}]}`, `"content":" two"`, false, RouteChat},
		{"messages translated", `{"model":"gpt","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"` + pad + `"}]}`, `"text":" two"`, true, RouteChat},
		{"responses passed through", `{"model":"gpt","stream":true,"input":"` + pad + `"}`, `" two"`, false, RouteResponses},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := AcquireResponse()
			defer ReleaseResponse(out)
			req := &ChatRequest{Model: []byte("gpt"), Stream: true, IncludeUsage: true, Cancel: &Cancel{}, Route: tc.route}
			if tc.anthropic {
				req.Anthropic = &AnthropicInbound{}
			}
			freed := make(chan struct{})
			func() {
				body := []byte(tc.body)
				runtime.SetFinalizer(&body[0], func(*byte) { close(freed) })
				i := strings.Index(tc.body, `"gpt"`)
				req.Body, req.ModelStart, req.ModelEnd, req.Model = body, i, i+5, body[i+1:i+4]
				if err := reg.Chat(reg.Lookup([]byte("gpt")), req, out); err != nil {
					t.Fatal(err)
				}
				if out.Stream == nil {
					t.Fatal("no stream")
				}
			}()
			// What the server does: the model copied out, the body let go.
			req.Model, req.Body = []byte("gpt"), nil
			out.LetRequestGo(req)
			deadline := time.Now().Add(5 * time.Second)
			for done := false; !done; {
				runtime.GC()
				select {
				case <-freed:
					done = true
				case <-time.After(10 * time.Millisecond):
					if time.Now().After(deadline) {
						t.Fatal("the client's body is still referred to by the started answer")
					}
				}
			}
			var w bufWriter
			if err := out.Stream.Relay(&w); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(w.String(), tc.want) {
				t.Fatalf("stream not whole after its request went: %s", w.String())
			}
		})
	}
}
