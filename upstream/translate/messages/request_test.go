package messages

import (
	"os"
	"testing"

	"github.com/bytedance/sonic"
	"github.com/llmedge/llmedge/upstream/translate/chat"
)

func claudeCodeRequest(t *testing.T) *Request {
	t.Helper()
	body, err := os.ReadFile("testdata/claude_code_request.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A Claude Code request (system blocks, thinking, cache_control,
// metadata, context_management, a server tool, tool history) becomes
// a chat request an OpenAI-compatible server accepts: nothing
// Anthropic-only is left in it.
func TestClaudeCodeRequestToOpenAIChat(t *testing.T) {
	r := claudeCodeRequest(t)
	c, err := r.ToChat(chat.Target{MaxCompletionTokens: true}, "gpt-4o")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := sonic.Marshal(c)
	var got map[string]any
	if err := sonic.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"thinking", "metadata", "context_management", "top_k", "max_tokens", "reasoning_effort"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s sent to an OpenAI target: %s", k, b)
		}
	}
	if got["max_completion_tokens"] != float64(32000) || got["stream"] != true || got["parallel_tool_calls"] != false || got["tool_choice"] != "auto" {
		t.Errorf("scalars: %s", b)
	}
	msgs := c.Messages
	wantRoles := []string{"system", "user", "assistant", "tool", "user"}
	if len(msgs) != len(wantRoles) {
		t.Fatalf("messages: %s", b)
	}
	for i, r := range wantRoles {
		if msgs[i].Role != r {
			t.Fatalf("message %d role %s, want %s: %s", i, msgs[i].Role, r, b)
		}
	}
	if msgs[0].Content != "You are Claude Code, Anthropic's official CLI for Claude.\nWorking directory: /repo" {
		t.Errorf("system: %v", msgs[0].Content)
	}
	if a := msgs[2]; a.Content != "Running ls." || len(a.ToolCalls) != 1 || a.ToolCalls[0].ID != "toolu_01" ||
		a.ToolCalls[0].Function.Arguments != `{"command":"ls"}` || a.ThinkingBlocks != nil {
		t.Errorf("assistant: %+v", a)
	}
	if tm := msgs[3]; tm.ToolCallID != "toolu_01" || tm.Content != "a.go\nb.go" {
		t.Errorf("tool result: %+v", tm)
	}
	parts, _ := msgs[4].Content.([]chat.Part)
	if len(parts) != 2 || parts[1].ImageURL == nil || parts[1].ImageURL.URL != "data:image/png;base64,iVBORw0KGgo=" {
		t.Errorf("user parts: %+v", msgs[4].Content)
	}
	if len(c.Tools) != 1 || c.Tools[0].Function.Name != "Bash" {
		t.Errorf("tools (server tool must be dropped): %+v", c.Tools)
	}
}

// To a reasoning model thinking becomes reasoning_effort; to a target
// whose own translator speaks Anthropic it stays Anthropic's object,
// with thinking blocks and cache_control kept.
func TestThinkingByTarget(t *testing.T) {
	r := claudeCodeRequest(t)
	c, _ := r.ToChat(chat.Target{Reasoning: true}, "o3")
	if c.ReasoningEffort != "high" || c.Thinking != nil || c.MaxTokens == nil {
		t.Errorf("reasoning target: effort %q thinking %s", c.ReasoningEffort, c.Thinking)
	}
	c, _ = r.ToChat(chat.Target{Anthropic: true}, "claude")
	if string(c.Thinking) != `{"type":"enabled","budget_tokens":31999}` || c.ReasoningEffort != "" {
		t.Errorf("anthropic target thinking: %s", c.Thinking)
	}
	if c.Messages[2].ThinkingBlocks == nil {
		t.Error("anthropic target lost the thinking blocks")
	}
	if parts, _ := c.Messages[1].Content.([]chat.Part); len(parts) != 1 || parts[0].CacheControl == nil {
		t.Errorf("anthropic target lost cache_control: %+v", c.Messages[1].Content)
	}
}

func TestBadRequestsNameTheField(t *testing.T) {
	for body, param := range map[string]string{
		`{"model":"m","messages":[]}`:                                                                                "messages",
		`{"model":"m","messages":[{"role":"system","content":"x"}]}`:                                                 "messages[0].role",
		`{"model":"m","messages":[{"role":"user","content":5}]}`:                                                     "messages[0].content",
		`{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"name":"a"}],"tool_choice":{"type":"x"}}`: "tool_choice.type",
		`{"model":"m","messages":[{"role":"user","content":[{"type":"image","source":{"type":"file"}}]}]}`:           "messages[0].content[0].source.type",
	} {
		r, err := Decode([]byte(body))
		if err == nil {
			_, err = r.ToChat(chat.Target{}, "m")
		}
		e, ok := err.(*Error)
		if !ok || e.Param != param {
			t.Errorf("%s: got %v, want param %s", body, err, param)
		}
	}
}

func TestEstimateTokens(t *testing.T) {
	r := claudeCodeRequest(t)
	n := r.EstimateTokens()
	// 3 messages, 2 tools, one image, ~500 bytes of text.
	if n < perImage+100 || n > perImage+400 {
		t.Errorf("estimate %d", n)
	}
}
