package openai

import (
	"testing"

	"github.com/llmedge/llmedge/upstream/provider"
)

func TestUsageOnlyChunk(t *testing.T) {
	if !usageOnlyChunk([]byte(`{"id":"c","choices":[ ],"usage":{"prompt_tokens":1}}`)) {
		t.Error("empty choices")
	}
	if usageOnlyChunk([]byte(`{"id":"c","choices":[{"index":0,"delta":{}}],"usage":{"prompt_tokens":1}}`)) {
		t.Error("chunk with a choice is not usage-only")
	}
}

func TestAppendPatchedBody(t *testing.T) {
	body := `{"model":"m","stream":true}`
	req := &provider.Request{Body: []byte(body), ModelStart: 9, ModelEnd: 12}
	if got := string(appendPatchedBody(nil, req, []byte(`"up"`))); got != `{"model":"up","stream":true}` {
		t.Fatal(got)
	}
	req.UsagePatchAt, req.UsagePatch = 1, []byte(`"stream_options":{"include_usage":true},`)
	if got := string(appendPatchedBody(nil, req, []byte(`"up"`))); got != `{"stream_options":{"include_usage":true},"model":"up","stream":true}` {
		t.Fatal(got)
	}
	body = `{"stream_options":{"include_usage":false},"model":"m"}`
	req = &provider.Request{Body: []byte(body), ModelStart: 50, ModelEnd: 53, UsagePatchAt: 35, UsagePatchDel: 5, UsagePatch: []byte("true")}
	if got := string(appendPatchedBody(nil, req, []byte(`"up"`))); got != `{"stream_options":{"include_usage":true},"model":"up"}` {
		t.Fatal(got)
	}
}
