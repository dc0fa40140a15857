package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	anthropicopt "github.com/anthropics/anthropic-sdk-go/option"
)

// Claude Code on any deployment: the official Anthropic Go SDK against
// /v1/messages on an OpenAI-compatible deployment (the fake speaks
// OpenAI's documented chat format).

func claudeSDK(g *gateway) anthropic.Client {
	return anthropic.NewClient(anthropicopt.WithBaseURL(g.url()), anthropicopt.WithAPIKey(testMasterKey),
		anthropicopt.WithMaxRetries(0), anthropicopt.WithRequestTimeout(20*time.Second))
}

// claudeStream streams a message with the SDK and accumulates it.
func claudeStream(t *testing.T, ctx context.Context, client anthropic.Client, params anthropic.MessageNewParams) anthropic.Message {
	t.Helper()
	stream := client.Messages.NewStreaming(ctx, params)
	var acc anthropic.Message
	for stream.Next() {
		if err := acc.Accumulate(stream.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	return acc
}

// streamToolCall streams a chat answer with text, then a tool call
// whose arguments come in three fragments.
func streamToolCall(w http.ResponseWriter, r *http.Request, body []byte) {
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	for _, d := range []string{
		`{"role":"assistant","content":"Let me look."}`,
		`{"tool_calls":[{"index":0,"id":"call_ls","type":"function","function":{"name":"Bash","arguments":""}}]}`,
		`{"tool_calls":[{"index":0,"function":{"arguments":"{\"comm"}}]}`,
		`{"tool_calls":[{"index":0,"function":{"arguments":"and\": \"ls"}}]}`,
		`{"tool_calls":[{"index":0,"function":{"arguments":" -la\"}"}}]}`,
	} {
		fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-t\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":%s,\"finish_reason\":null}]}\n\n", d)
		fl.Flush()
	}
	fmt.Fprint(w, "data: {\"id\":\"chatcmpl-t\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n")
	fmt.Fprint(w, "data: {\"id\":\"chatcmpl-t\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":40,\"completion_tokens\":12,\"total_tokens\":52}}\n\ndata: [DONE]\n\n")
	fl.Flush()
}

func TestClaudeSDKOnOpenAIDeployment(t *testing.T) {
	up := newFakeOpenAI(t)
	gw := startGateway(t, testConfig(dep(0, "gpt", "openai/gpt-4o", up.base(), "sk-up")))
	client := claudeSDK(gw)
	ctx := context.Background()

	// Text, JSON.
	msg, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: "gpt", MaxTokens: 100,
		System:   []anthropic.TextBlockParam{{Text: "be brief"}},
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}})
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Content) != 1 || msg.Content[0].Text != "Hello from the fake upstream." || msg.StopReason != "end_turn" || msg.Usage.OutputTokens != 6 {
		t.Fatalf("message: %+v", msg)
	}
	sent := up.requests()[0]
	if sent.Path != "/v1/chat/completions" || !strings.Contains(string(sent.Body), `{"role":"system","content":"be brief"}`) {
		t.Fatalf("upstream got %s %s", sent.Path, sent.Body)
	}

	// Text, stream.
	acc := claudeStream(t, ctx, client, anthropic.MessageNewParams{Model: "gpt", MaxTokens: 100,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}})
	if len(acc.Content) != 1 || acc.Content[0].Text != "Hello from the fake upstream." || acc.StopReason != "end_turn" {
		t.Fatalf("streamed: %+v", acc)
	}

	// Tools, stream: the arguments arrive in fragments as input_json_delta.
	up.setHandler(streamToolCall)
	tool := anthropic.ToolParam{Name: "Bash", Description: anthropic.String("run"),
		InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"command": map[string]any{"type": "string"}}}}
	stream := client.Messages.NewStreaming(ctx, anthropic.MessageNewParams{Model: "gpt", MaxTokens: 100,
		Tools:    []anthropic.ToolUnionParam{{OfTool: &tool}},
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("list"))}})
	acc = anthropic.Message{}
	deltas := 0
	for stream.Next() {
		ev := stream.Current()
		if ev.Type == "content_block_delta" && ev.Delta.Type == "input_json_delta" {
			deltas++
		}
		if err := acc.Accumulate(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if deltas != 3 || len(acc.Content) != 2 || acc.StopReason != "tool_use" {
		t.Fatalf("tool stream: %d deltas, %+v", deltas, acc)
	}
	tu := acc.Content[1]
	if tu.Type != "tool_use" || tu.ID != "call_ls" || tu.Name != "Bash" || string(tu.Input) != `{"command": "ls -la"}` {
		t.Fatalf("tool_use %+v input %s", tu, tu.Input)
	}
	if acc.Usage.InputTokens != 40 || acc.Usage.OutputTokens != 12 {
		t.Errorf("usage %+v", acc.Usage)
	}

	// Tool result: the answer to the call goes up as role tool, id kept.
	up.setHandler(answerJSON("17 files"))
	_, err = client.Messages.New(ctx, anthropic.MessageNewParams{Model: "gpt", MaxTokens: 100,
		Tools: []anthropic.ToolUnionParam{{OfTool: &tool}},
		Messages: []anthropic.MessageParam{
			anthropic.NewUserMessage(anthropic.NewTextBlock("list")),
			anthropic.NewAssistantMessage(anthropic.NewToolUseBlock("call_ls", map[string]string{"command": "ls -la"}, "Bash")),
			anthropic.NewUserMessage(anthropic.NewToolResultBlock("call_ls", "a.go\nb.go", false)),
		}})
	if err != nil {
		t.Fatal(err)
	}
	reqs := up.requests()
	var last struct {
		Messages []struct {
			Role       string `json:"role"`
			ToolCallID string `json:"tool_call_id"`
			ToolCalls  []struct {
				ID string `json:"id"`
			} `json:"tool_calls"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(reqs[len(reqs)-1].Body, &last); err != nil {
		t.Fatal(err)
	}
	if m := last.Messages; len(m) != 3 || m[1].ToolCalls[0].ID != "call_ls" || m[2].Role != "tool" || m[2].ToolCallID != "call_ls" {
		t.Fatalf("tool history: %s", reqs[len(reqs)-1].Body)
	}

	// count_tokens: an estimate, never a 404.
	n, err := client.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: "gpt",
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(strings.Repeat("word ", 100)))}})
	if err != nil || n.InputTokens < 100 || n.InputTokens > 200 {
		t.Fatalf("count_tokens: %v %+v", err, n)
	}
	if len(up.requests()) != len(reqs) {
		t.Error("count_tokens called the upstream")
	}
}

// A replay of Claude Code's request shape (?beta=true, anthropic-beta,
// Authorization: Bearer, a dated model name matched by a wildcard,
// system blocks with cache_control, metadata.user_id,
// context_management, thinking, a server tool) completes as a stream
// on an OpenAI deployment, and nothing Anthropic-only reaches it.
func TestClaudeCodeReplayOnOpenAIDeployment(t *testing.T) {
	up := newFakeOpenAI(t)
	gw := startGateway(t, testConfig(dep(0, "claude-*", "openai/gpt-4o", up.base(), "sk-up")))
	body, err := os.ReadFile("../upstream/translate/messages/testdata/claude_code_request.json")
	if err != nil {
		t.Fatal(err)
	}
	r := rawRequest(t, gw, "POST", "/v1/messages?beta=true", string(body),
		"Authorization: Bearer "+testMasterKey, "anthropic-version: 2023-06-01",
		"anthropic-beta: claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27",
		"User-Agent: claude-cli/2.0.14 (external, cli)", "x-app: cli")
	if r.StatusCode != 200 || !strings.Contains(r.Body, "event: message_start") || !strings.HasSuffix(strings.TrimSpace(r.Body), `data: {"type":"message_stop"}`) {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	sent := up.requests()[0]
	for _, banned := range []string{`"thinking"`, `"metadata"`, `"context_management"`, `"cache_control"`, `web_search`, `"system":`} {
		if strings.Contains(string(sent.Body), banned) {
			t.Errorf("%s reached the OpenAI deployment: %s", banned, sent.Body)
		}
	}
	if sent.Header.Get("Anthropic-Beta") != "" || sent.Header.Get("Authorization") != "Bearer sk-up" {
		t.Errorf("headers upstream: %v", sent.Header)
	}
}
