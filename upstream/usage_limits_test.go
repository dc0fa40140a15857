package upstream

import (
	"strings"
	"testing"
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
	req := &ChatRequest{Body: []byte(body), ModelStart: 9, ModelEnd: 12}
	if got := string(appendPatchedBody(nil, req, []byte(`"up"`))); got != `{"model":"up","stream":true}` {
		t.Fatal(got)
	}
	req.UsagePatchAt, req.UsagePatch = 1, []byte(`"stream_options":{"include_usage":true},`)
	if got := string(appendPatchedBody(nil, req, []byte(`"up"`))); got != `{"stream_options":{"include_usage":true},"model":"up","stream":true}` {
		t.Fatal(got)
	}
	body = `{"stream_options":{"include_usage":false},"model":"m"}`
	req = &ChatRequest{Body: []byte(body), ModelStart: 50, ModelEnd: 53, UsagePatchAt: 35, UsagePatchDel: 5, UsagePatch: []byte("true")}
	if got := string(appendPatchedBody(nil, req, []byte(`"up"`))); got != `{"stream_options":{"include_usage":true},"model":"up"}` {
		t.Fatal(got)
	}
}

func TestScrubKeyShapes(t *testing.T) {
	in := `bad key sk-proj-abcdefghijklmnopqrstuvwxyz0123 and sk-ant-api03-ABCDEFGHIJKLMNOPQRST, AIzaSyA1234567890abcdefghijklmnopqrstuv; AKIAIOSFODNN7EXAMPLE "Authorization: Bearer abcdefghijklmnopqrstu" task-force-alpha sk-short`
	out := string(ScrubSecrets([]byte(in), []string{"secret-value-1"}))
	for _, leak := range []string{"sk-proj-", "sk-ant-", "AIzaSy", "AKIAIOSF", "abcdefghijklmnopqrstu"} {
		if strings.Contains(out, leak) {
			t.Errorf("%s left in %s", leak, out)
		}
	}
	for _, keep := range []string{"task-force-alpha", "sk-short", "Bearer [REDACTED]", "bad key [REDACTED] and"} {
		if !strings.Contains(out, keep) {
			t.Errorf("%q mangled: %s", keep, out)
		}
	}
	if got := string(ScrubSecrets([]byte("x secret-value-1 y"), []string{"secret-value-1"})); got != "x [REDACTED] y" {
		t.Fatal(got)
	}
	clean := []byte("nothing to see")
	if &ScrubSecrets(clean, nil)[0] != &clean[0] {
		t.Fatal("clean text copied")
	}
}

func TestNoteAnthropicKeepsMax(t *testing.T) {
	var u Usage
	u.noteAnthropic([]byte(`{"type":"message_start","message":{"id":"m","usage":{"input_tokens":30,"output_tokens":1}}}`))
	u.noteAnthropic([]byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"usage"}}`))
	u.noteAnthropic([]byte(`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":12}}`))
	if u.PromptTokens != 30 || u.CompletionTokens != 12 || !u.Reported {
		t.Fatalf("%+v", u)
	}
}
