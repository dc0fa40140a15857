package bedrock

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/internal/allocs"
	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
)

// invokeDeltaStep is the per-event work of a native InvokeModel stream:
// decode one event-stream chunk (a text_delta) and write it out as an
// Anthropic server-sent event.
func invokeDeltaStep(tb testing.TB) (step func(), size int) {
	msg := providertest.ESChunk(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" the quick brown fox"}}`)
	s := &invokeStream{d: &provider.Endpoint{ID: "br-0"}, usage: &provider.Usage{}}
	s.dec = newESDecoder(&providertest.LoopReader{Block: msg}, 0)
	return func() {
		b, end, err := s.Next()
		if err != nil || end || len(b) == 0 {
			tb.Fatal(err, end, len(b))
		}
	}, len(msg)
}

// The native Bedrock relay allocates nothing per event.
func TestInvokeStreamDeltaAllocs(t *testing.T) {
	step, _ := invokeDeltaStep(t)
	step()
	allocs.None(t, "one InvokeModel stream chunk", 1000, step)
}

func BenchmarkInvokeStreamDelta(b *testing.B) {
	step, size := invokeDeltaStep(b)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		step()
	}
}

func TestCountTokensModel(t *testing.T) {
	for in, want := range map[string]string{
		"anthropic.claude-sonnet-4-5-20250929-v1:0":                           "anthropic.claude-sonnet-4-5-20250929-v1:0",
		"us.anthropic.claude-sonnet-4-5-20250929-v1:0":                        "anthropic.claude-sonnet-4-5-20250929-v1:0",
		"global.anthropic.claude-opus-4-5-20251101-v1:0":                      "anthropic.claude-opus-4-5-20251101-v1:0",
		"arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.claude-x": "arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.claude-x",
	} {
		if got := countTokensModel(in); got != want {
			t.Errorf("countTokensModel(%q) = %q", in, got)
		}
	}
}

// InvokeModel bodies get a thinking budget below Anthropic's minimum
// raised and max_tokens kept above it, the rest copied as sent.
func TestInvokeBodyFitsThinking(t *testing.T) {
	req := &provider.Request{Anthropic: &provider.AnthropicInbound{},
		Body: []byte(`{"model":"claude","max_tokens":600,"thinking":{"type":"enabled","budget_tokens":500},"messages":[{"role":"user","content":"x"}]}`)}
	body, e := invokeBody(req)
	if e != nil {
		t.Fatal(e)
	}
	var got struct {
		MaxTokens int `json:"max_tokens"`
		Thinking  struct {
			Budget int `json:"budget_tokens"`
		}
		Messages []any
	}
	if err := json.Unmarshal(body, &got); err != nil || got.MaxTokens != 1624 || got.Thinking.Budget != 1024 || len(got.Messages) != 1 {
		t.Fatalf("%v %s", err, body)
	}
}

// A looping InvokeModel stream is ended by the relay's guard with
// Anthropic's error event.
func TestInvokeStreamRepeatedChunks(t *testing.T) {
	msg := providertest.ESChunk(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"again and again"}}`)
	s := &invokeStream{d: &provider.Endpoint{ID: "br-0"}}
	s.dec = newESDecoder(&providertest.LoopReader{Block: msg}, 0)
	a := &provider.Answer{RepeatLimit: 4}
	a.StartRelay(s, nil)
	var w providertest.Writer
	err := a.Stream.Relay(&w)
	if err == nil || strings.Count(w.String(), "again and again") != 4 || !strings.Contains(w.String(), "event: error") || !strings.Contains(w.String(), "repeated the same chunk 4 times") {
		t.Fatalf("%v: %s", err, w.String())
	}
}
