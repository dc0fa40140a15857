package openai

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/provider"
)

// A request built from the endpoint's copied head is byte for byte the
// one built field by field, on varied endpoints and hostile input.
func TestCopiedHeadWritesTheSameBytes(t *testing.T) {
	bases := []string{
		"http://127.0.0.1:31901/v1",
		"https://API.Example.com/v1/",
		"http://h:8080/proxy/openai/v1?tenant=a%20b&x=1",
		"http://h/a/../v1//x%2Fy/",
		"http://h/v1/chat/completions",
		"http://h/caf%C3%A9/v1",
	}
	headerSets := [][]config.Header{
		nil,
		{{Name: "x-Custom-HEADER", Value: "v1"}, {Name: "OpenAI-Beta", Value: "assistants=v2"}},
		{{Name: "User-Agent", Value: "ua/1"}, {Name: "x-empty", Value: ""}, {Name: "content-type", Value: "text/plain"}},
		{{Name: "X-Evil", Value: "a\r\nInjected: 1"}, {Name: "x-sp ace", Value: " v "}, {Name: "X-Tab", Value: "a\tb"}},
		{{Name: "x-dup", Value: "1"}, {Name: "X-DUP", Value: "2"}},
		{{Name: "Host", Value: "other"}},
		{{Name: "Cookie", Value: "a=b"}},
	}
	auths := []struct{ header, value string }{{"", "Bearer sk-up"}, {"api-key", "az-key"}, {"x-API-key", "k"}, {"", ""}}
	ids := [][]byte{nil, []byte("llmedge-0123abcd-1f"), []byte("a\r\nX-Injected: 1"), []byte("")}
	copied := 0
	routes := []provider.Route{provider.RouteChat, provider.RouteEmbeddings, provider.RouteResponses, provider.RouteResponseGet}
	defer func() {
		if copied < 400 {
			t.Errorf("only %d requests from a copied head", copied)
		}
	}()
	for _, base := range bases {
		for _, hs := range headerSets {
			for _, a := range auths {
				for _, id := range ids {
					for _, r := range routes {
						for _, query := range []string{"", "after=x"} {
							req := &provider.Request{Route: r, RequestID: id, UserID: []byte("u\n1"), MemoryRouting: len(id) > 0,
								Traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", Tracestate: "k=v\r\nx"}
							if r == provider.RouteResponseGet {
								req.ResponseID = []byte("resp_1")
							} else {
								req.Body = []byte(`{"model":"m","input":"x"}`)
								req.ModelStart, req.ModelEnd = 9, 12
							}
							req.Query = []byte(query)
							fast, used := headBytes(t, base, hs, a.header, a.value, req, true)
							slow, _ := headBytes(t, base, hs, a.header, a.value, req, false)
							if used {
								copied++
							}
							if !bytes.Equal(fast, slow) {
								t.Fatalf("base %q headers %q auth %q id %q route %v query %q:\n--- head ---\n%s\n--- fields ---\n%s", base, hs, a, id, r, query, fast, slow)
							}
						}
					}
				}
			}
		}
	}
}

func headBytes(t *testing.T, base string, hs []config.Header, authHeader, auth string, req *provider.Request, heads bool) (b []byte, copied bool) {
	d := &provider.Endpoint{Config: &config.Deployment{UpstreamModel: "gpt-4o"}, URI: ChatURL(base), QuotedModel: []byte(`"gpt-4o"`), Headers: hs, AuthHeader: authHeader}
	if auth != "" {
		d.Auth = []byte(auth)
	}
	d.InitRouteURIs(base)
	if heads {
		d.InitRequestHeads(provider.RoutesAll)
	}
	var out provider.Answer
	copied = d.StartRequest(out.Request(), req)
	if e := buildRequest(d, req, nil, &out); e != nil {
		t.Fatal(e)
	}
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	if err := out.Req.Write(bw); err != nil {
		return []byte("error: " + err.Error()), copied
	}
	_ = bw.Flush()
	return buf.Bytes(), copied
}
