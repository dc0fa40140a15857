package server

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/openai/openai-go/v3"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/openai/openai-go/v3/shared"
)

func TestAnthropicNonStreamTranslation(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(anthropicJSON(`[{"type":"text","text":"Bonjour "},{"type":"text","text":"!"}]`, "end_turn", 10, 7, 100, 20))
	gw := startGateway(t, testConfig(anthropicDep(0, "claude", up)))
	client := sdk(gw, testMasterKey)

	p := openai.ChatCompletionNewParams{Model: "claude", Messages: []openai.ChatCompletionMessageParamUnion{
		openai.SystemMessage("be brief"),
		openai.DeveloperMessage("answer in French"),
		openai.UserMessage("hi"),
		openai.UserMessage("again"),
	}}
	p.Temperature = openai.Float(0.5)
	p.TopP = openai.Float(0.9)
	p.Stop = openai.ChatCompletionNewParamsStopUnion{OfString: openai.String("END")}
	p.User = openai.String("u-42")
	comp, err := client.Chat.Completions.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
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
	r := up.requests()[0]
	if r.Path != "/v1/messages" || r.Header.Get("X-Api-Key") != anthropicTestKey || r.Header.Get("Anthropic-Version") != "2023-06-01" {
		t.Errorf("path %q headers %v", r.Path, r.Header)
	}
	if got, ok := r.Header["X-Sm-User-Id"]; ok {
		t.Errorf("x-sm-user-id = %q without user_id_mappings", got)
	}
	body := jsonMap(t, r.Body)
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
	up := newFakeOpenAI(t)
	up.setHandler(anthropicJSON(`[{"type":"thinking","thinking":"Need weather.","signature":"sig1"},{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{"city":"Paris"}}]`, "tool_use", 5, 9, 0, 0))
	d := anthropicDep(0, "claude", up)
	d.Params = map[string]any{"thinking": map[string]any{"type": "enabled", "budget_tokens": 8000}}
	gw := startGateway(t, testConfig(d))

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
	resp := rawPost(t, gw, "/v1/chat/completions", reqBody, testMasterKey)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
	}
	var comp openai.ChatCompletion
	if err := json.Unmarshal([]byte(resp.Body), &comp); err != nil {
		t.Fatal(err)
	}
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

	body := jsonMap(t, up.requests()[0].Body)
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
	up := newFakeOpenAI(t)
	up.setHandler(anthropicSSE(
		anStart("claude-sonnet-4-5", 12, 30, 4), anPing,
		anBlockStart(0, `{"type":"text","text":""}`),
		anTextDelta(0, "Hello"), anTextDelta(0, ", \"world\"\n"), anPing, anTextDelta(0, "é✓"),
		anBlockStop(0), anMessageDelta("max_tokens", 15), anStop))
	gw := startGateway(t, testConfig(anthropicDep(0, "claude", up)))
	client := sdk(gw, testMasterKey)
	p := userMsg("hi")
	p.Model = "claude"
	p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	var text strings.Builder
	var finish string
	var usage openai.CompletionUsage
	for stream.Next() {
		c := stream.Current()
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
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if text.String() != "Hello, \"world\"\né✓" || finish != "length" {
		t.Errorf("text %q finish %q", text.String(), finish)
	}
	if usage.PromptTokens != 46 || usage.CompletionTokens != 15 || usage.PromptTokensDetails.CachedTokens != 30 {
		t.Errorf("usage = %+v", usage)
	}
	if b := jsonMap(t, up.requests()[0].Body); b["stream"] != true {
		t.Errorf("upstream stream flag = %v", b["stream"])
	}
	// Raw framing: every event a data line, [DONE] last.
	raw := rawPost(t, gw, "/v1/chat/completions", `{"model":"claude","stream":true,"messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if !strings.HasSuffix(raw.Body, "data: [DONE]\n\n") || raw.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("raw stream: %q", raw.Body)
	}
}

func TestAnthropicStreamToolUseAssembledBySDK(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(anthropicSSE(
		anStart("claude-sonnet-4-5", 3, 0, 0),
		anBlockStart(0, `{"type":"text","text":""}`), anTextDelta(0, "Let me check."), anBlockStop(0),
		anBlockStart(1, `{"type":"tool_use","id":"toolu_A","name":"get_weather","input":{}}`),
		anDelta(1, `{"type":"input_json_delta","partial_json":""}`),
		anDelta(1, `{"type":"input_json_delta","partial_json":"{\"city\": \"Pa"}`),
		anDelta(1, `{"type":"input_json_delta","partial_json":"ris\"}"}`), anBlockStop(1),
		anBlockStart(2, `{"type":"tool_use","id":"toolu_B","name":"get_time","input":{}}`),
		anDelta(2, `{"type":"input_json_delta","partial_json":"{\"tz\":\"CET\"}"}`), anBlockStop(2),
		anMessageDelta("tool_use", 40), anStop))
	gw := startGateway(t, testConfig(anthropicDep(0, "claude", up)))
	client := sdk(gw, testMasterKey)
	p := userMsg("weather?")
	p.Model = "claude"
	p.Tools = []openai.ChatCompletionToolUnionParam{
		openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: "get_weather", Parameters: shared.FunctionParameters{"type": "object"}}),
		openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: "get_time"}),
	}
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	acc := openai.ChatCompletionAccumulator{}
	var finished []openai.FinishedChatCompletionToolCall
	for stream.Next() {
		acc.AddChunk(stream.Current())
		if tc, ok := acc.JustFinishedToolCall(); ok {
			finished = append(finished, tc)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
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
	tools := jsonMap(t, up.requests()[0].Body)["tools"]
	if mustJSON(tools) != `[{"input_schema":{"type":"object"},"name":"get_weather"},{"input_schema":{"properties":{},"type":"object"},"name":"get_time"}]` {
		t.Errorf("tools = %s", mustJSON(tools))
	}
}

func TestAnthropicStreamThinking(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(anthropicSSE(
		anStart("claude-sonnet-4-5", 3, 0, 0),
		anBlockStart(0, `{"type":"thinking","thinking":""}`),
		anDelta(0, `{"type":"thinking_delta","thinking":"Let me think"}`),
		anDelta(0, `{"type":"thinking_delta","thinking":" step by step."}`),
		anDelta(0, `{"type":"signature_delta","signature":"EqQBCgIYAhIM"}`), anBlockStop(0),
		anBlockStart(1, `{"type":"text","text":""}`), anTextDelta(1, "42"), anBlockStop(1),
		anMessageDelta("end_turn", 9), anStop))
	gw := startGateway(t, testConfig(anthropicDep(0, "claude", up)))
	client := sdk(gw, testMasterKey)
	p := userMsg("think")
	p.Model = "claude"
	p.ReasoningEffort = shared.ReasoningEffortLow
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	var reasoning, text strings.Builder
	for stream.Next() {
		c := stream.Current()
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
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if reasoning.String() != "Let me think step by step." || text.String() != "42" {
		t.Errorf("reasoning %q text %q", reasoning.String(), text.String())
	}
	if th := mustJSON(jsonMap(t, up.requests()[0].Body)["thinking"]); th != `{"budget_tokens":1024,"type":"enabled"}` {
		t.Errorf("reasoning_effort low → thinking %s", th)
	}
}

func TestAnthropicMidStreamErrorEvent(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(anthropicSSE(
		anStart("claude-sonnet-4-5", 3, 0, 0),
		anBlockStart(0, `{"type":"text","text":""}`), anTextDelta(0, "partial"),
		anEvent{"error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`}))
	gw := startGateway(t, testConfig(anthropicDep(0, "claude", up)))
	client := sdk(gw, testMasterKey)
	p := userMsg("hi")
	p.Model = "claude"
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	var text strings.Builder
	for stream.Next() {
		if c := stream.Current(); len(c.Choices) > 0 {
			text.WriteString(c.Choices[0].Delta.Content)
		}
	}
	if text.String() != "partial" {
		t.Errorf("text before the error = %q", text.String())
	}
	if err := stream.Err(); err == nil || !strings.Contains(err.Error(), "Overloaded") {
		t.Fatalf("stream error = %v, want the overloaded error", err)
	}
	raw := rawPost(t, gw, "/v1/chat/completions", `{"model":"claude","stream":true,"messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if !strings.Contains(raw.Body, `"code":"overloaded_error"`) || !strings.HasSuffix(raw.Body, "data: [DONE]\n\n") {
		t.Errorf("raw stream: %q", raw.Body)
	}
}

func TestAnthropicOverloadedAndRateLimited(t *testing.T) {
	bad := newFakeOpenAI(t)
	bad.setHandler(anthropicFail(529, "overloaded_error", "Overloaded"))
	good := newFakeOpenAI(t)
	good.setHandler(anthropicJSON(`[{"type":"text","text":"ok"}]`, "end_turn", 1, 1, 0, 0))

	// Alone, 529 reaches the client as 529 with Anthropic's words.
	gw := startGateway(t, testConfig(anthropicDep(0, "claude", bad)))
	client := sdk(gw, testMasterKey)
	p := userMsg("hi")
	p.Model = "claude"
	_, err := client.Chat.Completions.New(context.Background(), p)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 529 || apiErr.Code != "overloaded_error" || !strings.Contains(apiErr.Message, "Overloaded") {
		t.Fatalf("err = %v", err)
	}

	// With another deployment, 529 is retried there (stream too: the
	// failure comes before the first event).
	gw2 := startGateway(t, testConfig(anthropicDep(0, "claude", bad), anthropicDep(1, "claude", good)))
	for i := 0; i < 4; i++ {
		r := rawPost(t, gw2, "/v1/chat/completions", `{"model":"claude","messages":[{"role":"user","content":"x"}]}`, testMasterKey)
		if r.StatusCode != 200 || !strings.Contains(r.Body, `"content":"ok"`) {
			t.Fatalf("retry: %d %s", r.StatusCode, r.Body)
		}
	}

	rl := newFakeOpenAI(t)
	rl.setHandler(anthropicFail(429, "rate_limit_error", "Number of requests has exceeded your rate limit", "Retry-After", "17"))
	// num_retries 0: the router would otherwise honour the 17 s
	// Retry-After (within max_retry_wait_seconds) and retry.
	cfg3 := testConfig(anthropicDep(0, "claude", rl))
	setSettings(cfg3, "router_settings", map[string]any{"num_retries": int64(0)})
	gw3 := startGateway(t, cfg3)
	r := rawPost(t, gw3, "/v1/chat/completions", `{"model":"claude","messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if r.StatusCode != 429 || r.Header.Get("Retry-After") != "17" || !strings.Contains(r.Body, `"type":"rate_limit_error"`) {
		t.Errorf("429: %d %v %s", r.StatusCode, r.Header, r.Body)
	}
	if strings.Contains(r.Body, anthropicTestKey) {
		t.Error("key leaked")
	}
}

func TestAnthropicFirstEventErrorIsRetried(t *testing.T) {
	bad := newFakeOpenAI(t)
	bad.setHandler(anthropicSSE(anEvent{"error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`}))
	good := newFakeOpenAI(t)
	good.setHandler(anthropicSSE(anStart("m", 1, 0, 0), anBlockStart(0, `{"type":"text","text":""}`), anTextDelta(0, "fine"), anMessageDelta("end_turn", 1), anStop))
	gw := startGateway(t, testConfig(anthropicDep(0, "claude", bad), anthropicDep(1, "claude", good)))
	for i := 0; i < 4; i++ {
		r := rawPost(t, gw, "/v1/chat/completions", `{"model":"claude","stream":true,"messages":[{"role":"user","content":"x"}]}`, testMasterKey)
		if r.StatusCode != 200 || !strings.Contains(r.Body, `"content":"fine"`) {
			t.Fatalf("got %d %s", r.StatusCode, r.Body)
		}
	}
	gw1 := startGateway(t, testConfig(anthropicDep(0, "claude", bad)))
	r := rawPost(t, gw1, "/v1/chat/completions", `{"model":"claude","stream":true,"messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if r.StatusCode != 529 {
		t.Errorf("lone overloaded stream: %d %s", r.StatusCode, r.Body)
	}
}

func TestAnthropicUnsupportedParams(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(anthropicJSON(`[{"type":"text","text":"ok"}]`, "end_turn", 1, 1, 0, 0))
	body := `{"model":"claude","frequency_penalty":0.5,"seed":7,"messages":[{"role":"user","content":"x"}]}`
	gw := startGateway(t, testConfig(anthropicDep(0, "claude", up)))
	r := rawPost(t, gw, "/v1/chat/completions", body, testMasterKey)
	if r.StatusCode != 400 || !strings.Contains(r.Body, "frequency_penalty, seed") || !strings.Contains(r.Body, `"param":"frequency_penalty"`) {
		t.Errorf("unsupported params: %d %s", r.StatusCode, r.Body)
	}
	if len(up.requests()) != 0 {
		t.Error("a request with unsupported params reached the upstream")
	}
	cfg := testConfig(anthropicDep(0, "claude", up))
	cfg.LiteLLM = config.LiteLLMSettings{DropParams: true}
	gw2 := startGateway(t, cfg)
	r = rawPost(t, gw2, "/v1/chat/completions", body, testMasterKey)
	if r.StatusCode != 200 {
		t.Fatalf("drop_params: %d %s", r.StatusCode, r.Body)
	}
	m := jsonMap(t, up.requests()[0].Body)
	if _, ok := m["frequency_penalty"]; ok {
		t.Error("dropped param forwarded")
	}
	// Per deployment too.
	d := anthropicDep(0, "claude", up)
	d.Params = map[string]any{"drop_params": true}
	gw3 := startGateway(t, testConfig(d))
	if r := rawPost(t, gw3, "/v1/chat/completions", body, testMasterKey); r.StatusCode != 200 {
		t.Errorf("litellm_params.drop_params: %d %s", r.StatusCode, r.Body)
	}
}

// OpenAI structured outputs (response_format json_schema) become
// Anthropic's output_config.format: Claude answers JSON text, which the
// SDK reads as the message content. json_object has no Anthropic
// equivalent: a 400 naming response_format (or dropped with
// drop_params); a json_schema without a schema object is a 400 naming it.
func TestAnthropicStructuredOutputs(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(anthropicJSON(`[{"type":"text","text":"{\"city\":\"Paris\",\"temp_c\":21}"}]`, "end_turn", 12, 9, 0, 0))
	gw := startGateway(t, testConfig(anthropicDep(0, "claude", up)))
	client := sdk(gw, testMasterKey)

	schema := map[string]any{
		"type":                 "object",
		"properties":           map[string]any{"city": map[string]any{"type": "string"}, "temp_c": map[string]any{"type": "integer"}},
		"required":             []any{"city", "temp_c"},
		"additionalProperties": false,
	}
	p := openai.ChatCompletionNewParams{Model: "claude", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("weather in Paris?")}}
	p.ResponseFormat = openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
		JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "weather", Schema: schema, Strict: openai.Bool(true)}}}
	comp, err := client.Chat.Completions.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		City  string `json:"city"`
		TempC int    `json:"temp_c"`
	}
	if err := json.Unmarshal([]byte(comp.Choices[0].Message.Content), &got); err != nil || got.City != "Paris" || got.TempC != 21 {
		t.Fatalf("content %q: %v", comp.Choices[0].Message.Content, err)
	}
	body := jsonMap(t, up.requests()[0].Body)
	want := map[string]any{"format": map[string]any{"type": "json_schema", "schema": schema}}
	if mustJSON(body["output_config"]) != mustJSON(want) {
		t.Fatalf("output_config = %s, want %s", mustJSON(body["output_config"]), mustJSON(want))
	}
	if _, ok := body["response_format"]; ok {
		t.Fatal("response_format forwarded to anthropic")
	}

	n := len(up.requests())
	for body, param := range map[string]string{
		`{"model":"claude","response_format":{"type":"json_object"},"messages":[{"role":"user","content":"x"}]}`:                            "response_format",
		`{"model":"claude","response_format":{"type":"json_schema","json_schema":{"name":"w"}},"messages":[{"role":"user","content":"x"}]}`: "response_format.json_schema.schema",
	} {
		r := rawPost(t, gw, "/v1/chat/completions", body, testMasterKey)
		if r.StatusCode != 400 || !strings.Contains(r.Body, `"param":"`+param+`"`) {
			t.Errorf("%s: %d %s", body, r.StatusCode, r.Body)
		}
	}
	if len(up.requests()) != n {
		t.Error("a refused response_format reached the upstream")
	}
}
