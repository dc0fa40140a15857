package anthropic_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream"
	pt "github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/llmedge/llmedge/upstream/upstreamtest"
	"github.com/openai/openai-go/v3"
)

// OpenAI chat calls translated to Anthropic's Messages API, against a
// fake that enforces what the real API requires (providertest's
// AnthropicJSON, AnthropicSSE): what llmedge sends and what the client
// gets back.

func anthropicDep(name string, up *pt.Upstream) *config.Deployment {
	return upstreamtest.Dep(name, "anthropic/claude-sonnet-4-5", up.URL(), pt.AnthropicKey)
}

func registry(t *testing.T, settings string, deps ...*config.Deployment) *upstream.Registry {
	return upstreamtest.Registry(t, upstreamtest.Config(t, settings, deps...), nil)
}

func jsonMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return m
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestAnthropicNonStreamTranslation(t *testing.T) {
	up := pt.NewUpstream(t, pt.AnthropicJSON(`[{"type":"text","text":"Bonjour "},{"type":"text","text":"!"}]`, "end_turn", 10, 7, 100, 20))
	reg := registry(t, "", anthropicDep("claude", up))
	req := upstreamtest.Request(`{"model":"claude","messages":[{"role":"system","content":"be brief"},{"role":"developer","content":"answer in French"},`+
		`{"role":"user","content":"hi"},{"role":"user","content":"again"}],"temperature":0.5,"top_p":0.9,"stop":"END","user":"u-42"}`, upstream.RouteChat)
	req.UserID = []byte("default-dev")
	req.MemoryRouting = true // user_id_mappings configured
	r := upstreamtest.Do(t, reg, req)
	comp := r.Completion(t)
	if got := comp.Choices[0].Message.Content; got != "Bonjour !" {
		t.Errorf("content = %q", got)
	}
	if comp.Choices[0].FinishReason != "stop" || comp.Object != "chat.completion" {
		t.Errorf("finish/object = %q/%q", comp.Choices[0].FinishReason, comp.Object)
	}
	u := comp.Usage
	if u.PromptTokens != 130 || u.CompletionTokens != 7 || u.TotalTokens != 137 || u.PromptTokensDetails.CachedTokens != 100 {
		t.Errorf("usage = %+v", u)
	}
	if raw := u.PromptTokensDetails.JSON.ExtraFields["cache_creation_tokens"].Raw(); raw != "20" {
		t.Errorf("cache_creation_tokens = %q", raw)
	}
	seen := up.Requests()[0]
	if seen.Path != "/v1/messages" || seen.Header.Get("X-Api-Key") != pt.AnthropicKey || seen.Header.Get("Anthropic-Version") != "2023-06-01" {
		t.Errorf("path %q headers %v", seen.Path, seen.Header)
	}
	if got := seen.Header.Get("X-Sm-User-Id"); got != "default-dev" {
		t.Errorf("x-sm-user-id = %q", got)
	}
	body := jsonMap(t, seen.Body)
	want := map[string]any{
		"model":          "claude-sonnet-4-5",
		"max_tokens":     4096.0,
		"temperature":    0.5,
		"top_p":          0.9,
		"stop_sequences": []any{"END"},
		"metadata":       map[string]any{"user_id": "u-42"},
		"system":         []any{map[string]any{"type": "text", "text": "be brief"}, map[string]any{"type": "text", "text": "answer in French"}},
		"messages":       []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": "hi"}, map[string]any{"type": "text", "text": "again"}}}},
	}
	if mustJSON(body) != mustJSON(want) {
		t.Errorf("anthropic body:\n got %s\nwant %s", mustJSON(body), mustJSON(want))
	}
}

func TestAnthropicToolsImagesAndThinkingNonStream(t *testing.T) {
	up := pt.NewUpstream(t, pt.AnthropicJSON(`[{"type":"thinking","thinking":"Need weather.","signature":"sig1"},{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{"city":"Paris"}}]`, "tool_use", 5, 9, 0, 0))
	d := anthropicDep("claude", up)
	d.Params = map[string]any{"thinking": map[string]any{"type": "enabled", "budget_tokens": 8000}}
	reg := registry(t, "", d)

	// A whole tool round trip in one request: assistant tool_calls, two
	// tool results (merged into one user turn), an image.
	reqBody := `{"model":"claude","tool_choice":"required","parallel_tool_calls":false,
	 "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
	 "messages":[
	  {"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},{"type":"image_url","image_url":{"url":"https://example.com/a.jpg"}}]},
	  {"role":"assistant","content":null,"thinking_blocks":[{"type":"thinking","thinking":"prior","signature":"s0"}],"tool_calls":[{"id":"toolu_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"toolu_b","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},
	  {"role":"tool","tool_call_id":"toolu_a","content":"sunny"},
	  {"role":"tool","tool_call_id":"toolu_b","content":"rain"},
	  {"role":"user","content":"and now?"}]}`
	comp := upstreamtest.Chat(t, reg, reqBody).Completion(t)
	msg := comp.Choices[0].Message
	if comp.Choices[0].FinishReason != "tool_calls" || len(msg.ToolCalls) != 1 {
		t.Fatalf("finish %q tool calls %+v", comp.Choices[0].FinishReason, msg.ToolCalls)
	}
	tc := msg.ToolCalls[0]
	if tc.ID != "toolu_01" || tc.Function.Name != "get_weather" || tc.Function.Arguments != `{"city":"Paris"}` {
		t.Errorf("tool call = %+v", tc)
	}
	if msg.Content != "Checking." {
		t.Errorf("content = %q", msg.Content)
	}
	if raw := msg.JSON.ExtraFields["reasoning_content"].Raw(); raw != `"Need weather."` {
		t.Errorf("reasoning_content = %s", raw)
	}

	body := jsonMap(t, up.Requests()[0].Body)
	if mustJSON(body["thinking"]) != `{"budget_tokens":8000,"type":"enabled"}` {
		t.Errorf("thinking = %s", mustJSON(body["thinking"]))
	}
	if body["max_tokens"] != 12096.0 {
		t.Errorf("max_tokens = %v (must exceed the thinking budget)", body["max_tokens"])
	}
	if mustJSON(body["tool_choice"]) != `{"disable_parallel_tool_use":true,"type":"any"}` {
		t.Errorf("tool_choice = %s", mustJSON(body["tool_choice"]))
	}
	if mustJSON(body["tools"]) != `[{"description":"Weather","input_schema":{"properties":{"city":{"type":"string"}},"type":"object"},"name":"get_weather"}]` {
		t.Errorf("tools = %s", mustJSON(body["tools"]))
	}
	msgs := body["messages"].([]any)
	if len(msgs) != 3 {
		t.Fatalf("want 3 alternating turns (tool results and the next user text merged), got %s", mustJSON(msgs))
	}
	wantMsgs := `[{"content":[{"text":"look","type":"text"},{"source":{"data":"iVBORw0KGgo=","media_type":"image/png","type":"base64"},"type":"image"},{"source":{"type":"url","url":"https://example.com/a.jpg"},"type":"image"}],"role":"user"},` +
		`{"content":[{"signature":"s0","thinking":"prior","type":"thinking"},{"id":"toolu_a","input":{"city":"Paris"},"name":"get_weather","type":"tool_use"},{"id":"toolu_b","input":{"city":"Rome"},"name":"get_weather","type":"tool_use"}],"role":"assistant"},` +
		`{"content":[{"content":[{"text":"sunny","type":"text"}],"tool_use_id":"toolu_a","type":"tool_result"},{"content":[{"text":"rain","type":"text"}],"tool_use_id":"toolu_b","type":"tool_result"},{"text":"and now?","type":"text"}],"role":"user"}]`
	if got := mustJSON(msgs); got != wantMsgs {
		t.Errorf("messages:\n got %s\nwant %s", got, wantMsgs)
	}
}

func TestAnthropicStreamTextAndUsage(t *testing.T) {
	up := pt.NewUpstream(t, pt.AnthropicSSE(
		pt.AnStart("claude-sonnet-4-5", 12, 30, 4), pt.AnPing,
		pt.AnBlockStart(0, `{"type":"text","text":""}`),
		pt.AnTextDelta(0, "Hello"), pt.AnTextDelta(0, ", \"world\"\n"), pt.AnPing, pt.AnTextDelta(0, "é✓"),
		pt.AnBlockStop(0), pt.AnMessageDelta("max_tokens", 15), pt.AnStop))
	reg := registry(t, "", anthropicDep("claude", up))
	r := upstreamtest.Chat(t, reg, `{"model":"claude","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`)
	var text strings.Builder
	var finish string
	var usage openai.CompletionUsage
	for _, c := range r.Chunks(t) {
		if c.Object != "chat.completion.chunk" {
			t.Errorf("object %q", c.Object)
		}
		if len(c.Choices) > 0 {
			text.WriteString(c.Choices[0].Delta.Content)
			if c.Choices[0].FinishReason != "" {
				finish = c.Choices[0].FinishReason
			}
		}
		if c.Usage.TotalTokens > 0 {
			usage = c.Usage
		}
	}
	if r.RelayErr != nil {
		t.Fatal(r.RelayErr)
	}
	if text.String() != "Hello, \"world\"\né✓" || finish != "length" {
		t.Errorf("text %q finish %q", text.String(), finish)
	}
	if usage.PromptTokens != 46 || usage.CompletionTokens != 15 || usage.PromptTokensDetails.CachedTokens != 30 {
		t.Errorf("usage = %+v", usage)
	}
	if b := jsonMap(t, up.Requests()[0].Body); b["stream"] != true {
		t.Errorf("upstream stream flag = %v", b["stream"])
	}
	// Framing: every event a data line, [DONE] last.
	raw := upstreamtest.Chat(t, reg, `{"model":"claude","stream":true,"messages":[{"role":"user","content":"x"}]}`)
	if !strings.HasSuffix(raw.Body, "data: [DONE]\n\n") {
		t.Errorf("raw stream: %q", raw.Body)
	}
}

func TestAnthropicStreamToolUseAssembledBySDK(t *testing.T) {
	up := pt.NewUpstream(t, pt.AnthropicSSE(
		pt.AnStart("claude-sonnet-4-5", 3, 0, 0),
		pt.AnBlockStart(0, `{"type":"text","text":""}`), pt.AnTextDelta(0, "Let me check."), pt.AnBlockStop(0),
		pt.AnBlockStart(1, `{"type":"tool_use","id":"toolu_A","name":"get_weather","input":{}}`),
		pt.AnDelta(1, `{"type":"input_json_delta","partial_json":""}`),
		pt.AnDelta(1, `{"type":"input_json_delta","partial_json":"{\"city\": \"Pa"}`),
		pt.AnDelta(1, `{"type":"input_json_delta","partial_json":"ris\"}"}`), pt.AnBlockStop(1),
		pt.AnBlockStart(2, `{"type":"tool_use","id":"toolu_B","name":"get_time","input":{}}`),
		pt.AnDelta(2, `{"type":"input_json_delta","partial_json":"{\"tz\":\"CET\"}"}`), pt.AnBlockStop(2),
		pt.AnMessageDelta("tool_use", 40), pt.AnStop))
	reg := registry(t, "", anthropicDep("claude", up))
	r := upstreamtest.Chat(t, reg, `{"model":"claude","stream":true,"messages":[{"role":"user","content":"weather?"}],`+
		`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}},{"type":"function","function":{"name":"get_time"}}]}`)
	acc := openai.ChatCompletionAccumulator{}
	var finished []openai.FinishedChatCompletionToolCall
	for _, c := range r.Chunks(t) {
		acc.AddChunk(c)
		if tc, ok := acc.JustFinishedToolCall(); ok {
			finished = append(finished, tc)
		}
	}
	msg := acc.Choices[0].Message
	if msg.Content != "Let me check." || acc.Choices[0].FinishReason != "tool_calls" || len(msg.ToolCalls) != 2 {
		t.Fatalf("accumulated: %+v finish %q", msg, acc.Choices[0].FinishReason)
	}
	if tc := msg.ToolCalls[0]; tc.ID != "toolu_A" || tc.Function.Name != "get_weather" || tc.Function.Arguments != `{"city": "Paris"}` {
		t.Errorf("tool 0 = %+v", tc)
	}
	if tc := msg.ToolCalls[1]; tc.ID != "toolu_B" || tc.Function.Name != "get_time" || tc.Function.Arguments != `{"tz":"CET"}` {
		t.Errorf("tool 1 = %+v", tc)
	}
	if len(finished) != 2 {
		t.Errorf("SDK reported %d finished tool calls", len(finished))
	}
	tools := jsonMap(t, up.Requests()[0].Body)["tools"]
	if mustJSON(tools) != `[{"input_schema":{"type":"object"},"name":"get_weather"},{"input_schema":{"properties":{},"type":"object"},"name":"get_time"}]` {
		t.Errorf("tools = %s", mustJSON(tools))
	}
}

func TestAnthropicStreamThinking(t *testing.T) {
	up := pt.NewUpstream(t, pt.AnthropicSSE(
		pt.AnStart("claude-sonnet-4-5", 3, 0, 0),
		pt.AnBlockStart(0, `{"type":"thinking","thinking":""}`),
		pt.AnDelta(0, `{"type":"thinking_delta","thinking":"Let me think"}`),
		pt.AnDelta(0, `{"type":"thinking_delta","thinking":" step by step."}`),
		pt.AnDelta(0, `{"type":"signature_delta","signature":"EqQBCgIYAhIM"}`), pt.AnBlockStop(0),
		pt.AnBlockStart(1, `{"type":"text","text":""}`), pt.AnTextDelta(1, "42"), pt.AnBlockStop(1),
		pt.AnMessageDelta("end_turn", 9), pt.AnStop))
	reg := registry(t, "", anthropicDep("claude", up))
	r := upstreamtest.Chat(t, reg, `{"model":"claude","stream":true,"reasoning_effort":"low","messages":[{"role":"user","content":"think"}]}`)
	var reasoning, text strings.Builder
	for _, c := range r.Chunks(t) {
		if len(c.Choices) == 0 {
			continue
		}
		if f, ok := c.Choices[0].Delta.JSON.ExtraFields["reasoning_content"]; ok {
			var s string
			_ = json.Unmarshal([]byte(f.Raw()), &s)
			reasoning.WriteString(s)
		}
		text.WriteString(c.Choices[0].Delta.Content)
	}
	if r.RelayErr != nil {
		t.Fatal(r.RelayErr)
	}
	if reasoning.String() != "Let me think step by step." || text.String() != "42" {
		t.Errorf("reasoning %q text %q", reasoning.String(), text.String())
	}
	if th := mustJSON(jsonMap(t, up.Requests()[0].Body)["thinking"]); th != `{"budget_tokens":1024,"type":"enabled"}` {
		t.Errorf("reasoning_effort low → thinking %s", th)
	}
}

func TestAnthropicMidStreamErrorEvent(t *testing.T) {
	up := pt.NewUpstream(t, pt.AnthropicSSE(
		pt.AnStart("claude-sonnet-4-5", 3, 0, 0),
		pt.AnBlockStart(0, `{"type":"text","text":""}`), pt.AnTextDelta(0, "partial"),
		pt.AnEvent{Name: "error", Data: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`}))
	reg := registry(t, "", anthropicDep("claude", up))
	r := upstreamtest.Chat(t, reg, `{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	var text strings.Builder
	for _, c := range r.Chunks(t) {
		if len(c.Choices) > 0 {
			text.WriteString(c.Choices[0].Delta.Content)
		}
	}
	if text.String() != "partial" {
		t.Errorf("text before the error = %q", text.String())
	}
	if r.RelayErr == nil || !strings.Contains(r.Body, `"message":"Overloaded"`) || !strings.Contains(r.Body, `"code":"overloaded_error"`) ||
		!strings.HasSuffix(r.Body, "data: [DONE]\n\n") {
		t.Fatalf("stream error %v, stream %q", r.RelayErr, r.Body)
	}
}

func TestAnthropicOverloadedAndRateLimited(t *testing.T) {
	bad := pt.NewUpstream(t, pt.AnthropicFail(529, "overloaded_error", "Overloaded"))
	good := pt.NewUpstream(t, pt.AnthropicJSON(`[{"type":"text","text":"ok"}]`, "end_turn", 1, 1, 0, 0))

	// Alone, 529 reaches the client as 529 with Anthropic's words.
	r := upstreamtest.Chat(t, registry(t, "", anthropicDep("claude", bad)), `{"model":"claude","messages":[{"role":"user","content":"hi"}]}`)
	if r.Status != 529 || r.Err.Code != "overloaded_error" || !strings.Contains(r.Err.Message, "Overloaded") {
		t.Fatalf("lone 529: %d %s", r.Status, r.Body)
	}

	// With another deployment, 529 is retried there (stream too: the
	// failure comes before the first event).
	reg2 := registry(t, "", anthropicDep("claude", bad), anthropicDep("claude", good))
	for i := 0; i < 4; i++ {
		r := upstreamtest.Chat(t, reg2, `{"model":"claude","messages":[{"role":"user","content":"x"}]}`)
		if r.Status != 200 || !strings.Contains(r.Body, `"content":"ok"`) {
			t.Fatalf("retry: %d %s", r.Status, r.Body)
		}
	}

	rl := pt.NewUpstream(t, pt.AnthropicFail(429, "rate_limit_error", "Number of requests has exceeded your rate limit", "Retry-After", "17"))
	// num_retries 0: the router would otherwise honour the 17 s
	// Retry-After (within max_retry_wait_seconds) and retry.
	r = upstreamtest.Chat(t, registry(t, "router_settings: {num_retries: 0}", anthropicDep("claude", rl)), `{"model":"claude","messages":[{"role":"user","content":"x"}]}`)
	if r.Status != 429 || r.Headers["Retry-After"] != "17" || !strings.Contains(r.Body, `"type":"rate_limit_error"`) {
		t.Errorf("429: %d %v %s", r.Status, r.Headers, r.Body)
	}
	if strings.Contains(r.Body, pt.AnthropicKey) {
		t.Error("key leaked")
	}
}

func TestAnthropicFirstEventErrorIsRetried(t *testing.T) {
	bad := pt.NewUpstream(t, pt.AnthropicSSE(pt.AnEvent{Name: "error", Data: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`}))
	good := pt.NewUpstream(t, pt.AnthropicSSE(pt.AnStart("m", 1, 0, 0), pt.AnBlockStart(0, `{"type":"text","text":""}`), pt.AnTextDelta(0, "fine"), pt.AnMessageDelta("end_turn", 1), pt.AnStop))
	reg := registry(t, "", anthropicDep("claude", bad), anthropicDep("claude", good))
	const body = `{"model":"claude","stream":true,"messages":[{"role":"user","content":"x"}]}`
	for i := 0; i < 4; i++ {
		if r := upstreamtest.Chat(t, reg, body); r.Status != 200 || !strings.Contains(r.Body, `"content":"fine"`) {
			t.Fatalf("got %d %s", r.Status, r.Body)
		}
	}
	if r := upstreamtest.Chat(t, registry(t, "", anthropicDep("claude", bad)), body); r.Status != 529 {
		t.Errorf("lone overloaded stream: %d %s", r.Status, r.Body)
	}
}

func TestAnthropicUnsupportedParams(t *testing.T) {
	up := pt.NewUpstream(t, pt.AnthropicJSON(`[{"type":"text","text":"ok"}]`, "end_turn", 1, 1, 0, 0))
	const body = `{"model":"claude","frequency_penalty":0.5,"seed":7,"messages":[{"role":"user","content":"x"}]}`
	r := upstreamtest.Chat(t, registry(t, "", anthropicDep("claude", up)), body)
	if r.Status != 400 || !strings.Contains(r.Body, "frequency_penalty, seed") || !strings.Contains(r.Body, `"param":"frequency_penalty"`) {
		t.Errorf("unsupported params: %d %s", r.Status, r.Body)
	}
	if len(up.Requests()) != 0 {
		t.Error("a request with unsupported params reached the upstream")
	}
	r = upstreamtest.Chat(t, registry(t, "litellm_settings: {drop_params: true}", anthropicDep("claude", up)), body)
	if r.Status != 200 {
		t.Fatalf("drop_params: %d %s", r.Status, r.Body)
	}
	if _, ok := jsonMap(t, up.Requests()[0].Body)["frequency_penalty"]; ok {
		t.Error("dropped param forwarded")
	}
	// Per deployment too.
	d := anthropicDep("claude", up)
	d.Params = map[string]any{"drop_params": true}
	if r := upstreamtest.Chat(t, registry(t, "", d), body); r.Status != 200 {
		t.Errorf("litellm_params.drop_params: %d %s", r.Status, r.Body)
	}
}

// OpenAI structured outputs (response_format json_schema) become
// Anthropic's output_config.format: Claude answers JSON text, which the
// SDK reads as the message content. json_object has no Anthropic
// equivalent: a 400 naming response_format (or dropped with
// drop_params); a json_schema without a schema object is a 400 naming it.
func TestAnthropicStructuredOutputs(t *testing.T) {
	up := pt.NewUpstream(t, pt.AnthropicJSON(`[{"type":"text","text":"{\"city\":\"Paris\",\"temp_c\":21}"}]`, "end_turn", 12, 9, 0, 0))
	reg := registry(t, "", anthropicDep("claude", up))
	schema := map[string]any{
		"type":                 "object",
		"properties":           map[string]any{"city": map[string]any{"type": "string"}, "temp_c": map[string]any{"type": "integer"}},
		"required":             []any{"city", "temp_c"},
		"additionalProperties": false,
	}
	rf := mustJSON(map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "weather", "schema": schema, "strict": true}})
	comp := upstreamtest.Chat(t, reg, `{"model":"claude","messages":[{"role":"user","content":"weather in Paris?"}],"response_format":`+rf+`}`).Completion(t)
	var got struct {
		City  string `json:"city"`
		TempC int    `json:"temp_c"`
	}
	if err := json.Unmarshal([]byte(comp.Choices[0].Message.Content), &got); err != nil || got.City != "Paris" || got.TempC != 21 {
		t.Fatalf("content %q: %v", comp.Choices[0].Message.Content, err)
	}
	body := jsonMap(t, up.Requests()[0].Body)
	want := map[string]any{"format": map[string]any{"type": "json_schema", "schema": schema}}
	if mustJSON(body["output_config"]) != mustJSON(want) {
		t.Fatalf("output_config = %s, want %s", mustJSON(body["output_config"]), mustJSON(want))
	}
	if _, ok := body["response_format"]; ok {
		t.Fatal("response_format forwarded to anthropic")
	}

	n := len(up.Requests())
	for body, param := range map[string]string{
		`{"model":"claude","response_format":{"type":"json_object"},"messages":[{"role":"user","content":"x"}]}`:                            "response_format",
		`{"model":"claude","response_format":{"type":"json_schema","json_schema":{"name":"w"}},"messages":[{"role":"user","content":"x"}]}`: "response_format.json_schema.schema",
	} {
		r := upstreamtest.Chat(t, reg, body)
		if r.Status != 400 || !strings.Contains(r.Body, `"param":"`+param+`"`) {
			t.Errorf("%s: %d %s", body, r.Status, r.Body)
		}
	}
	if len(up.Requests()) != n {
		t.Error("a refused response_format reached the upstream")
	}
}

// A thinking budget below Anthropic's minimum (1024) is raised to it
// and max_tokens kept above it, whether the budget comes from the
// request or the deployment; the fake refuses what Anthropic refuses.
func TestAnthropicThinkingBudgetRaisedToMinimum(t *testing.T) {
	up := pt.NewUpstream(t, pt.AnthropicJSON(`[{"type":"text","text":"ok"}]`, "end_turn", 1, 1, 0, 0))
	reg := registry(t, "", anthropicDep("claude", up))
	for _, c := range []struct {
		body    string
		wantMax float64
	}{
		{`{"model":"claude","max_tokens":600,"thinking":{"type":"enabled","budget_tokens":500},"messages":[{"role":"user","content":"x"}]}`, 1624},
		{`{"model":"claude","max_tokens":2000,"thinking":{"type":"enabled","budget_tokens":10},"messages":[{"role":"user","content":"x"}]}`, 2000},
		{`{"model":"claude","thinking":{"type":"enabled","budget_tokens":512},"messages":[{"role":"user","content":"x"}]}`, 4096},
		{`{"model":"claude","max_tokens":1500,"thinking":{"type":"enabled","budget_tokens":3000},"messages":[{"role":"user","content":"x"}]}`, 4500},
	} {
		n := len(up.Requests())
		if got := upstreamtest.Chat(t, reg, c.body).Completion(t).Choices[0].Message.Content; got != "ok" {
			t.Fatalf("%s: content %q", c.body, got)
		}
		sent := jsonMap(t, up.Requests()[n].Body)
		budget := sent["thinking"].(map[string]any)["budget_tokens"].(float64)
		if budget < 1024 || sent["max_tokens"] != c.wantMax {
			t.Errorf("%s: sent budget %v max_tokens %v, want budget ≥ 1024 and max_tokens %v", c.body, budget, sent["max_tokens"], c.wantMax)
		}
	}
}
