package responses

import (
	"os"
	"testing"

	"github.com/bytedance/sonic"
	"github.com/llmedge/llmedge/upstream/translate/chat"
)

func codexRequest(t *testing.T) *Request {
	t.Helper()
	body, err := os.ReadFile("testdata/codex_request.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Codex's request (instructions, message items, reasoning items,
// function and custom tool calls with outputs, a built-in tool)
// becomes a chat request: tool calls and outputs paired by id, the
// custom tool as a one-string function, built-in tools and reasoning
// items dropped.
func TestCodexRequestToChat(t *testing.T) {
	r := codexRequest(t)
	c, input, err := r.ToChat(chat.Target{}, "claude-sonnet-4-5", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := sonic.Marshal(c)
	roles := ""
	for _, m := range c.Messages {
		roles += m.Role + " "
	}
	if roles != "system user user assistant tool assistant tool assistant " {
		t.Fatalf("roles %q: %s", roles, b)
	}
	if len(input) != len(c.Messages)-1 {
		t.Errorf("input messages %d", len(input))
	}
	if a := c.Messages[3]; len(a.ToolCalls) != 1 || a.ToolCalls[0].ID != "call_1" || a.ToolCalls[0].Function.Arguments != `{"command":["ls"]}` {
		t.Errorf("function_call: %+v", a)
	}
	if a := c.Messages[5]; a.ToolCalls[0].Function.Arguments != `{"input":"*** Begin Patch\n*** End Patch"}` {
		t.Errorf("custom_tool_call: %+v", a)
	}
	if tm := c.Messages[4]; tm.ToolCallID != "call_1" || tm.Content != "a.go\nb.go" {
		t.Errorf("output: %+v", tm)
	}
	if len(c.Tools) != 2 || c.Tools[1].Function.Name != "apply_patch" || c.ToolChoice != "auto" || *c.ParallelToolCalls {
		t.Errorf("tools: %s", b)
	}
	if c.ReasoningEffort != "" {
		t.Error("reasoning_effort sent to a target without reasoning")
	}
	c, _, _ = r.ToChat(chat.Target{Reasoning: true}, "o3", nil)
	if c.ReasoningEffort != "medium" {
		t.Errorf("effort %q", c.ReasoningEffort)
	}
}

// previous_response_id: the stored turns come between the instructions
// and the new input.
func TestHistoryPrepended(t *testing.T) {
	r, _ := Decode([]byte(`{"model":"m","instructions":"be brief","input":"and then?","previous_response_id":"resp_1"}`))
	c, _, err := r.ToChat(chat.Target{}, "m", []byte(`[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Messages) != 4 || c.Messages[0].Role != "system" || c.Messages[1].Content != "hi" || c.Messages[3].Content != "and then?" {
		t.Fatalf("%+v", c.Messages)
	}
}

func TestBadResponsesRequestsNameTheField(t *testing.T) {
	for body, param := range map[string]string{
		`{"model":"m"}`: "input",
		`{"model":"m","input":[{"type":"computer_call_output","call_id":"x"}]}`:                        "input[0].type",
		`{"model":"m","input":[{"role":"tool","content":"x"}]}`:                                        "input[0].role",
		`{"model":"m","input":"x","tools":[{"type":"function","name":"f"}],"tool_choice":"sometimes"}`: "tool_choice",
	} {
		r, err := Decode([]byte(body))
		if err == nil {
			_, _, err = r.ToChat(chat.Target{}, "m", nil)
		}
		if e, ok := err.(*Error); !ok || e.Param != param {
			t.Errorf("%s: got %v, want %s", body, err, param)
		}
	}
}
