package mock_test

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/upstream"
	"github.com/llmedge/llmedge/upstream/upstreamtest"
)

func mockRegistry(t *testing.T) *upstream.Registry {
	said := upstreamtest.Dep("said", "mock/x", "", "")
	said.MockResponse, said.HasMockResponse = "Hi from the mock.", true
	return upstreamtest.Registry(t, upstreamtest.Config(t, "", said, upstreamtest.Dep("plain", "mock/x", "", "")), nil)
}

// mock/ answers mock_response (or its default) in OpenAI's chat format,
// under the requested model name, with usage, and without an upstream.
func TestMockChatAnswersMockResponse(t *testing.T) {
	reg := mockRegistry(t)
	r := upstreamtest.Chat(t, reg, `{"model":"said","messages":[{"role":"user","content":"hi"}]}`)
	c := r.Completion(t)
	if c.Choices[0].Message.Content != "Hi from the mock." || c.Choices[0].FinishReason != "stop" || c.Model != "said" ||
		!strings.HasPrefix(c.ID, "chatcmpl-mock-") || c.Usage.CompletionTokens != 4 || c.Usage.PromptTokens == 0 {
		t.Fatalf("answer %s", r.Body)
	}
	if !r.Usage.Reported || r.Usage.CompletionTokens != 4 {
		t.Fatalf("usage %+v", r.Usage)
	}
	if c := upstreamtest.Chat(t, reg, `{"model":"plain","messages":[{"role":"user","content":"hi"}]}`).Completion(t); c.Choices[0].Message.Content != "This is a mock response from llmedge." {
		t.Fatalf("default answer %q", c.Choices[0].Message.Content)
	}
}

// A mock stream is a word per chunk, the pieces adding up to
// mock_response, the usage chunk only when asked, [DONE] last.
func TestMockChatStreamsWordByWord(t *testing.T) {
	reg := mockRegistry(t)
	r := upstreamtest.Chat(t, reg, `{"model":"said","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`)
	chunks := r.Chunks(t)
	if r.RelayErr != nil || len(chunks) != 1+4+1+1 || !strings.HasSuffix(r.Body, "data: [DONE]\n\n") {
		t.Fatalf("%d chunks, relay %v:\n%s", len(chunks), r.RelayErr, r.Body)
	}
	acc := r.Accumulate(t)
	if acc.Choices[0].Message.Content != "Hi from the mock." || acc.Choices[0].FinishReason != "stop" || acc.Usage.CompletionTokens != 4 {
		t.Fatalf("accumulated %+v usage %+v", acc.Choices[0], acc.Usage)
	}
	r = upstreamtest.Chat(t, reg, `{"model":"said","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if strings.Contains(r.Body, `"usage"`) || !r.Usage.Reported {
		t.Fatalf("usage chunk without include_usage (or usage not reported): %+v\n%s", r.Usage, r.Body)
	}
}

type embeddings struct {
	Data []struct {
		Index     int             `json:"index"`
		Embedding json.RawMessage `json:"embedding"`
	} `json:"data"`
	Model string `json:"model"`
	Usage struct {
		PromptTokens int `json:"prompt_tokens"`
	} `json:"usage"`
}

func embed(t *testing.T, reg *upstream.Registry, body string) (embeddings, upstreamtest.Result) {
	t.Helper()
	r := upstreamtest.Do(t, reg, upstreamtest.Request(body, upstream.RouteEmbeddings))
	var e embeddings
	if r.Status == 200 {
		if err := json.Unmarshal([]byte(r.Body), &e); err != nil {
			t.Fatalf("%v: %s", err, r.Body)
		}
	}
	return e, r
}

func floats(t *testing.T, raw json.RawMessage) []float64 {
	var v []float64
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	return v
}

// mock/ embeddings are deterministic unit vectors: the same input gets
// the same vector, another input another; every OpenAI input shape,
// dimensions and base64 encoding are honoured.
func TestMockEmbeddingsAreDeterministicUnitVectors(t *testing.T) {
	reg := mockRegistry(t)
	e, r := embed(t, reg, `{"model":"plain","input":["a","b","a"],"dimensions":8}`)
	if r.Status != 200 || len(e.Data) != 3 || e.Model != "plain" || e.Usage.PromptTokens != 3 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	a, b, a2 := floats(t, e.Data[0].Embedding), floats(t, e.Data[1].Embedding), floats(t, e.Data[2].Embedding)
	var norm float64
	for _, f := range a {
		norm += f * f
	}
	if len(a) != 8 || math.Abs(norm-1) > 1e-5 || string(e.Data[0].Embedding) != string(e.Data[2].Embedding) || a[0] == b[0] || a2[1] != a[1] {
		t.Fatalf("vectors %v %v %v (norm² %v)", a, b, a2, norm)
	}
	if e, _ := embed(t, reg, `{"model":"plain","input":"x"}`); len(floats(t, e.Data[0].Embedding)) != 1536 {
		t.Fatal("default dimensions are not text-embedding-3-small's")
	}
	e, _ = embed(t, reg, `{"model":"plain","input":[[1,2],[3]],"dimensions":4,"encoding_format":"base64"}`)
	var s string
	if json.Unmarshal(e.Data[1].Embedding, &s) != nil {
		t.Fatalf("base64 embedding %s", e.Data[1].Embedding)
	}
	if raw, err := base64.StdEncoding.DecodeString(s); err != nil || len(raw) != 16 || e.Usage.PromptTokens != 3 {
		t.Fatalf("base64 %q: %v, tokens %d", s, err, e.Usage.PromptTokens)
	}
	if e, r := embed(t, reg, `{"model":"plain","input":[5,6,7]}`); r.Status != 200 || len(e.Data) != 1 || e.Usage.PromptTokens != 3 {
		t.Fatalf("token ids: %d %s", r.Status, r.Body)
	}
}

// Bad embeddings requests are 400s naming the field.
func TestMockEmbeddingsErrorsNameTheField(t *testing.T) {
	reg := mockRegistry(t)
	for body, param := range map[string]string{
		`{"model":"plain"}`:                                     "input",
		`{"model":"plain","input":""}`:                          "input",
		`{"model":"plain","input":[]}`:                          "input",
		`{"model":"plain","input":["a",""]}`:                    "input",
		`{"model":"plain","input":[["x"]]}`:                     "input",
		`{"model":"plain","input":{}}`:                          "input",
		`{"model":"plain","input":"x","encoding_format":"hex"}`: "encoding_format",
		`{"model":"plain","input":"x","dimensions":0}`:          "dimensions",
		`{"model":"plain","input":"x","dimensions":9000}`:       "dimensions",
		`{"model":"plain","input":"x","dimensions":"8"}`:        "input",
	} {
		_, r := embed(t, reg, body)
		if r.Status != 400 || r.Err.Param != param || r.Err.Type != "invalid_request_error" {
			t.Errorf("%s: %d %s, want 400 naming %s", body, r.Status, r.Body, param)
		}
	}
}
