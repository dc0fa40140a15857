package bedrock

import (
	"encoding/json"
	"testing"

	"github.com/llmedge/llmedge/upstream/provider"
)

func TestBedrockRequestTranslation(t *testing.T) {
	body := `{"model":"m","messages":[
		{"role":"developer","content":"rules"},
		{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/jpg;base64,AAAA"}}]},
		{"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\": 1}"}},{"id":"c2","type":"function","function":{"name":"g","arguments":""}}]},
		{"role":"tool","tool_call_id":"c1","content":"one"},
		{"role":"tool","tool_call_id":"c2","content":[{"type":"text","text":"two"}]},
		{"role":"user","content":"and?"}],
		"max_completion_tokens":9,"max_tokens":1,"top_p":0.5,"stop":"END",
		"tools":[{"type":"function","function":{"name":"f","description":"d"}}],"tool_choice":"auto"}`
	out, e := bedrockRequestBody([]byte(body), "anthropic.claude-x", false)
	if e != nil {
		t.Fatal(e)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	want := `{"inferenceConfig":{"maxTokens":9,"stopSequences":["END"],"topP":0.5},` +
		`"messages":[{"content":[{"text":"look"},{"image":{"format":"jpeg","source":{"bytes":"AAAA"}}}],"role":"user"},` +
		`{"content":[{"toolUse":{"input":{"a":1},"name":"f","toolUseId":"c1"}},{"toolUse":{"input":{},"name":"g","toolUseId":"c2"}}],"role":"assistant"},` +
		`{"content":[{"toolResult":{"content":[{"text":"one"}],"toolUseId":"c1"}},{"toolResult":{"content":[{"text":"two"}],"toolUseId":"c2"}},{"text":"and?"}],"role":"user"}],` +
		`"system":[{"text":"rules"}],` +
		`"toolConfig":{"toolChoice":{"auto":{}},"tools":[{"toolSpec":{"description":"d","inputSchema":{"json":{"properties":{},"type":"object"}},"name":"f"}}]}}`
	norm, _ := json.Marshal(got)
	if string(norm) != want {
		t.Fatalf("converse body\n got %s\nwant %s", norm, want)
	}
}

func TestBedrockRequestErrorsNameTheField(t *testing.T) {
	for body, param := range map[string]string{
		`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}`:                                "messages[0].content[0].image_url.url",
		`{"messages":[{"role":"wizard","content":"x"}]}`:                                                                                       "messages[0].role",
		`{"messages":[{"role":"user","content":"x"}],"stop":5}`:                                                                                "stop",
		`{"messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"function"},"tools":[{"type":"function","function":{"name":"f"}}]}`: "tool_choice",
		`{"messages":[]}`: "messages",
		`{"messages":[{"role":"user","content":"x"}],"n":3}`:                                "n",
		`{"messages":[{"role":"user","content":"x"}],"logprobs":true,"response_format":{}}`: "logprobs",
		`{"messages":[{"role":"user","content":"x"}],"reasoning_effort":"high"}`:            "reasoning_effort",
	} {
		_, e := bedrockRequestBody([]byte(body), "amazon.nova-pro-v1:0", false)
		if e == nil || e.Status != 400 || e.Param != param {
			t.Errorf("%s: got %+v, want 400 param %q", body, e, param)
		}
	}
}

func TestBedrockThinkingAndDropParams(t *testing.T) {
	out, e := bedrockRequestBody([]byte(`{"messages":[{"role":"user","content":"x"}],"reasoning_effort":"low","logprobs":true,"seed":1}`), "us.anthropic.claude-sonnet-4", true)
	if e != nil {
		t.Fatal(e)
	}
	var got map[string]any
	_ = json.Unmarshal(out, &got)
	th, _ := got["additionalModelRequestFields"].(map[string]any)["thinking"].(map[string]any)
	if th["type"] != "enabled" || th["budget_tokens"] != 1024.0 || got["logprobs"] != nil || got["seed"] != nil {
		t.Fatalf("%s", out)
	}
}

func TestBedrockResponseTranslation(t *testing.T) {
	in := `{"output":{"message":{"role":"assistant","content":[{"reasoningContent":{"reasoningText":{"text":"hmm","signature":"s"}}},{"text":"Hi "},{"text":"there"},{"toolUse":{"toolUseId":"t","name":"f","input":{"x": [1, 2]}}}]}},"stopReason":"tool_use","usage":{"inputTokens":3,"outputTokens":4,"totalTokens":7,"cacheWriteInputTokens":1}}`
	out, err := bedrockResponseBody(nil, []byte(in), []byte("my-model"), 1700000000)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Object  string
		Model   string
		Choices []struct {
			FinishReason string `json:"finish_reason"`
			Message      struct {
				Content          string
				ReasoningContent string `json:"reasoning_content"`
				ToolCalls        []struct {
					ID       string
					Function struct{ Name, Arguments string }
				} `json:"tool_calls"`
			}
		}
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
			TotalTokens      int `json:"total_tokens"`
		}
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	c := r.Choices[0]
	if r.Object != "chat.completion" || r.Model != "my-model" || c.FinishReason != "tool_calls" || c.Message.Content != "Hi there" ||
		c.Message.ReasoningContent != "hmm" || c.Message.ToolCalls[0].Function.Arguments != `{"x":[1,2]}` ||
		r.Usage.PromptTokens != 4 || r.Usage.CompletionTokens != 4 || r.Usage.TotalTokens != 8 {
		t.Fatalf("%s", out)
	}
}

func TestBedrockFinishReasons(t *testing.T) {
	for in, want := range map[string]string{"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
		"tool_use": "tool_calls", "guardrail_intervened": "content_filter", "content_filtered": "content_filter"} {
		if got := provider.FinishReason(in); got != want {
			t.Errorf("%s -> %s, want %s", in, got, want)
		}
	}
}

// FuzzBedrockRequest: any body either translates to valid JSON or is a
// 400; never a panic.
func FuzzBedrockRequest(f *testing.F) {
	f.Add([]byte(`{"messages":[{"role":"user","content":"hi"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		out, e := bedrockRequestBody(body, "anthropic.claude-x", false)
		if e != nil {
			if e.Status != 400 {
				t.Fatalf("status %d", e.Status)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON out: %s", out)
		}
	})
}

// BenchmarkBedrockStreamTextDelta is the ConverseStream relay's
// per-event work: decode one event stream message off the wire (CRCs
// checked), translate it, build the OpenAI chunk.
func BenchmarkBedrockStreamTextDelta(b *testing.B) {
	step, size := textDeltaStep(b)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		step()
	}
}
