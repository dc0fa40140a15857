package server

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
)

// Codex on any deployment: openai-go's Responses client against
// /v1/responses on an anthropic/ deployment (the fake speaks
// Anthropic's documented Messages format).

// anthropicToolStream is an Anthropic stream with text, then a
// tool_use whose input arrives in fragments.
func anthropicToolStream() []anEvent {
	return []anEvent{
		anStart("claude-sonnet-4-5", 30, 0, 0), anPing,
		anBlockStart(0, `{"type":"text","text":""}`), anTextDelta(0, "Checking."), anBlockStop(0),
		anBlockStart(1, `{"type":"tool_use","id":"toolu_01","name":"shell","input":{}}`),
		anDelta(1, `{"type":"input_json_delta","partial_json":"{\"command\":"}`),
		anDelta(1, `{"type":"input_json_delta","partial_json":"[\"ls\"]}"}`),
		anBlockStop(1), anMessageDelta("tool_use", 9), anStop,
	}
}

func TestResponsesSDKOnAnthropicDeployment(t *testing.T) {
	an := newFakeOpenAI(t)
	an.setHandler(anthropicJSON(`[{"type":"text","text":"Once upon a time."}]`, "end_turn", 11, 5, 0, 0))
	gw := startGateway(t, testConfig(anthropicDep(0, "claude", an)))
	client := sdk(gw, testMasterKey)
	ctx := context.Background()

	// Text, JSON, stored.
	first, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "claude",
		Instructions: openai.String("be brief"),
		Input:        responses.ResponseNewParamsInputUnion{OfString: openai.String("Tell me a story")}})
	if err != nil {
		t.Fatal(err)
	}
	if first.OutputText() != "Once upon a time." || first.Status != "completed" || first.Usage.InputTokens != 11 || !strings.HasPrefix(first.ID, "resp_") {
		t.Fatalf("response %+v", first)
	}
	var sent struct {
		System   json.RawMessage `json:"system"`
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	_ = json.Unmarshal(an.requests()[0].Body, &sent)
	if !strings.Contains(string(sent.System), "be brief") || len(sent.Messages) != 1 {
		t.Fatalf("anthropic got %s", an.requests()[0].Body)
	}

	// previous_response_id: the stored turn goes up before the new input.
	an.setHandler(anthropicJSON(`[{"type":"text","text":"The end."}]`, "end_turn", 20, 3, 0, 0))
	second, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "claude",
		PreviousResponseID: openai.String(first.ID),
		Input:              responses.ResponseNewParamsInputUnion{OfString: openai.String("And then?")}})
	if err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(an.requests()[1].Body, &sent)
	if second.OutputText() != "The end." || second.PreviousResponseID != first.ID || len(sent.Messages) != 3 ||
		!strings.Contains(string(sent.Messages[1].Content), "Once upon a time.") || sent.Messages[1].Role != "assistant" {
		t.Fatalf("continuation: %s", an.requests()[1].Body)
	}
	var apiErr *openai.Error
	if _, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "claude", PreviousResponseID: openai.String("resp_unknown"),
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("x")}}); !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != "previous_response_not_found" || apiErr.Param != "previous_response_id" {
		t.Fatalf("unknown previous id: %v", err)
	}

	// GET and DELETE of a translated response.
	got, err := client.Responses.Get(ctx, first.ID, responses.ResponseGetParams{})
	if err != nil || got.OutputText() != "Once upon a time." {
		t.Fatalf("get: %v %+v", err, got)
	}
	if err := client.Responses.Delete(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Responses.Get(ctx, first.ID, responses.ResponseGetParams{}); err == nil {
		t.Fatal("deleted response still found")
	}

	// Tools, stream: arguments streamed as function_call_arguments.delta.
	an.setHandler(anthropicSSE(anthropicToolStream()...))
	stream := client.Responses.NewStreaming(ctx, responses.ResponseNewParams{Model: "claude",
		Tools: []responses.ToolUnionParam{{OfFunction: &responses.FunctionToolParam{Name: "shell",
			Parameters: map[string]any{"type": "object", "properties": map[string]any{"command": map[string]any{"type": "array"}}}}}},
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("list files")}})
	var text, args string
	var done *responses.Response
	for stream.Next() {
		ev := stream.Current()
		switch ev.Type {
		case "response.output_text.delta":
			text += ev.Delta
		case "response.function_call_arguments.delta":
			args += ev.Delta
		case "response.completed":
			r := ev.Response
			done = &r
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if text != "Checking." || args != `{"command":["ls"]}` || done == nil || len(done.Output) != 2 {
		t.Fatalf("stream: text %q args %q done %+v", text, args, done)
	}
	call := done.Output[1]
	if call.Type != "function_call" || call.CallID != "toolu_01" || call.Name != "shell" || call.Arguments.OfString != `{"command":["ls"]}` {
		t.Fatalf("function_call %+v", call)
	}

	// Tool result: function_call + function_call_output go up as
	// tool_use and tool_result with the same id.
	an.setHandler(anthropicJSON(`[{"type":"text","text":"Two files."}]`, "end_turn", 40, 3, 0, 0))
	res, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "claude",
		Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
			{OfMessage: &responses.EasyInputMessageParam{Role: "user", Content: responses.EasyInputMessageContentUnionParam{OfString: openai.String("list files")}}},
			{OfFunctionCall: &responses.ResponseFunctionToolCallParam{CallID: "toolu_01", Name: "shell", Arguments: `{"command":["ls"]}`}},
			{OfFunctionCallOutput: &responses.ResponseInputItemFunctionCallOutputParam{CallID: openai.String("toolu_01"),
				Output: responses.ResponseInputItemFunctionCallOutputOutputUnionParam{OfString: openai.String("a.go\nb.go")}}},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	reqs := an.requests()
	b := string(reqs[len(reqs)-1].Body)
	if res.OutputText() != "Two files." || !strings.Contains(b, `"type":"tool_use","id":"toolu_01"`) || !strings.Contains(b, `"tool_use_id":"toolu_01"`) {
		t.Fatalf("tool history: %s", b)
	}
}

// A replay of Codex's request shape (instructions, message items,
// reasoning items with encrypted content, function and custom tool
// calls with outputs, a built-in tool, store false, include,
// prompt_cache_key) completes as a stream on an anthropic/ deployment.
func TestCodexReplayOnAnthropicDeployment(t *testing.T) {
	an := newFakeOpenAI(t)
	an.setHandler(anthropicSSE(anStart("claude-sonnet-4-5", 30, 0, 0), anBlockStart(0, `{"type":"text","text":""}`),
		anTextDelta(0, "Done."), anBlockStop(0), anMessageDelta("end_turn", 2), anStop))
	gw := startGateway(t, testConfig(anthropicDep(0, "gpt-5-codex", an)))
	body, err := os.ReadFile("../upstream/translate/responses/testdata/codex_request.json")
	if err != nil {
		t.Fatal(err)
	}
	r := rawRequest(t, gw, "POST", "/v1/responses", string(body), "Authorization: Bearer "+testMasterKey,
		"OpenAI-Beta: responses=experimental", "originator: codex_cli_rs", "session_id: 0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
	if r.StatusCode != 200 || !strings.Contains(r.Body, "event: response.output_text.delta") || !strings.Contains(r.Body, "event: response.completed") {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	sent := string(an.requests()[0].Body)
	for _, want := range []string{`"tool_use_id":"call_1"`, `"tool_use_id":"call_2"`, `"name":"apply_patch"`, `You are Codex`} {
		if !strings.Contains(sent, want) {
			t.Errorf("%s missing upstream: %s", want, sent)
		}
	}
	if strings.Contains(sent, "web_search") || strings.Contains(sent, "encrypted") {
		t.Errorf("built-in tool or reasoning item reached Anthropic: %s", sent)
	}
}
