package server

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	anthropicopt "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
)

// Claude Code on Claude hosted by Vertex AI and Bedrock: /v1/messages
// passes the client's body through in each host's native form
// (rawPredict / InvokeModel), so thinking signatures, tools and
// cache_control survive. The fakes follow each host's documented wire
// format (Vertex: model in the URL, anthropic_version in the body;
// Bedrock: SigV4, anthropic_beta in the body, event-stream chunks).

// claudeAnswer is a Claude answer with a signed thinking block, text
// and a tool call: as one message, and as the event sequence.
const claudeAnswer = `{"id":"msg_native","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[` +
	`{"type":"thinking","thinking":"Look first.","signature":"EqQBCkYIBxgCKkA-sig"},` +
	`{"type":"text","text":"Let me look."},` +
	`{"type":"tool_use","id":"toolu_native","name":"Bash","input":{"command":"ls -la"}}],` +
	`"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":30,"cache_read_input_tokens":20,"output_tokens":12}}`

var claudeEvents = []providertest.AnEvent{
	providertest.AnStart("claude-sonnet-4-5", 30, 20, 0),
	providertest.AnBlockStart(0, `{"type":"thinking","thinking":""}`),
	providertest.AnDelta(0, `{"type":"thinking_delta","thinking":"Look first."}`),
	providertest.AnDelta(0, `{"type":"signature_delta","signature":"EqQBCkYIBxgCKkA-sig"}`),
	providertest.AnBlockStop(0),
	providertest.AnBlockStart(1, `{"type":"text","text":""}`),
	providertest.AnTextDelta(1, "Let me look."),
	providertest.AnBlockStop(1),
	providertest.AnBlockStart(2, `{"type":"tool_use","id":"toolu_native","name":"Bash","input":{}}`),
	providertest.AnDelta(2, `{"type":"input_json_delta","partial_json":"{\"command\": "}`),
	providertest.AnDelta(2, `{"type":"input_json_delta","partial_json":"\"ls -la\"}"}`),
	providertest.AnBlockStop(2),
	providertest.AnMessageDelta("tool_use", 12),
	providertest.AnStop,
}

// checkClaudeAnswer checks what the SDK made of claudeAnswer (or the
// stream of claudeEvents).
func checkClaudeAnswer(t *testing.T, what string, m *anthropic.Message) {
	t.Helper()
	if len(m.Content) != 3 || m.StopReason != "tool_use" {
		t.Fatalf("%s: %+v", what, m)
	}
	th, tx, tu := m.Content[0], m.Content[1], m.Content[2]
	if th.Type != "thinking" || th.Thinking != "Look first." || th.Signature != "EqQBCkYIBxgCKkA-sig" {
		t.Errorf("%s: thinking block %+v", what, th)
	}
	if tx.Text != "Let me look." || tu.Type != "tool_use" || tu.ID != "toolu_native" || tu.Name != "Bash" {
		t.Errorf("%s: blocks %+v %+v", what, tx, tu)
	}
	var in map[string]string
	if err := json.Unmarshal(tu.Input, &in); err != nil || in["command"] != "ls -la" {
		t.Errorf("%s: tool input %s", what, tu.Input)
	}
	if m.Usage.OutputTokens != 12 {
		t.Errorf("%s: usage %+v", what, m.Usage)
	}
}

// exerciseNative runs the SDK's calls on model: text, stream, tool
// result, count_tokens (which must answer want).
func exerciseNative(t *testing.T, gw *gateway, model string, wantCount int64) {
	client := anthropic.NewClient(anthropicopt.WithBaseURL(gw.url()), anthropicopt.WithAPIKey(testMasterKey), anthropicopt.WithMaxRetries(0),
		anthropicopt.WithHeader("anthropic-beta", "interleaved-thinking-2025-05-14,claude-code-20250219,oauth-2025-04-20"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tool := anthropic.ToolParam{Name: "Bash", InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"command": map[string]any{"type": "string"}}}}
	params := anthropic.MessageNewParams{Model: anthropic.Model(model), MaxTokens: 2048,
		Thinking: anthropic.ThinkingConfigParamOfEnabled(1024),
		Tools:    []anthropic.ToolUnionParam{{OfTool: &tool}},
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("list"))}}

	msg, err := client.Messages.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	checkClaudeAnswer(t, "message", msg)

	acc := claudeStream(t, ctx, client, params)
	checkClaudeAnswer(t, "stream", &acc)

	// The tool result goes back with the signed thinking block in the
	// history, as Anthropic requires for thinking with tools.
	params.Messages = append(params.Messages, msg.ToParam(),
		anthropic.NewUserMessage(anthropic.NewToolResultBlock("toolu_native", "a.go\nb.go", false)))
	if _, err := client.Messages.New(ctx, params); err != nil {
		t.Fatal(err)
	}

	n, err := client.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: anthropic.Model(model),
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}})
	if err != nil || n.InputTokens != wantCount {
		t.Fatalf("count_tokens: %v %+v", err, n)
	}
}

// signedHistory is the body member the tool-result call sends: the
// assistant turn with its thinking signature, as the SDK wrote it.
func signedHistory(t *testing.T, body map[string]any) string {
	t.Helper()
	msgs, _ := body["messages"].([]any)
	if len(msgs) != 3 {
		t.Fatalf("messages upstream: %v", body["messages"])
	}
	b, _ := json.Marshal(msgs[1])
	return string(b)
}

func vertexClaudeDep(t *testing.T, up *providertest.Vertex, i int, name string) *config.Deployment {
	d := dep(i, name, "vertex_ai/claude-sonnet-4-5@20250929", up.URL(), "")
	d.Params = map[string]any{"vertex_project": "my-proj", "vertex_location": "us-east5", "vertex_credentials": string(up.ServiceAccountJSON())}
	return d
}

func TestClaudeSDKOnVertexClaudeNative(t *testing.T) {
	up := providertest.NewVertex(t)
	up.SetClaude(func(w http.ResponseWriter, r *http.Request, body []byte) {
		if strings.HasSuffix(r.URL.Path, ":streamRawPredict") {
			providertest.WriteAnthropicEvents(w, claudeEvents...)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(claudeAnswer))
	})
	gw := startGateway(t, testConfig(vertexClaudeDep(t, up, 0, "claude-v")))
	exerciseNative(t, gw, "claude-v", 42)

	const prefix = "/v1/projects/my-proj/locations/us-east5/publishers/anthropic/models/"
	var paths []string
	var betas []string
	for _, s := range up.Requests() {
		if s.Path == "/token" {
			continue
		}
		paths = append(paths, strings.TrimPrefix(s.Path, prefix))
		betas = append(betas, s.Header.Get("Anthropic-Beta"))
		if s.Header.Get("Anthropic-Version") != "" {
			t.Errorf("anthropic-version header sent to Vertex (it takes the body's)")
		}
	}
	want := []string{"claude-sonnet-4-5@20250929:rawPredict", "claude-sonnet-4-5@20250929:streamRawPredict", "claude-sonnet-4-5@20250929:rawPredict", "count-tokens:rawPredict"}
	if !reflect.DeepEqual(paths, want) {
		t.Fatalf("paths %q", paths)
	}
	// Betas Vertex does not know (claude-code, oauth) are dropped.
	for _, b := range betas {
		if b != "interleaved-thinking-2025-05-14" {
			t.Errorf("anthropic-beta to Vertex %q", b)
		}
	}
	bodies := up.ClaudeBodies()
	if got := signedHistory(t, bodies[2]); !strings.Contains(got, `"signature":"EqQBCkYIBxgCKkA-sig"`) || !strings.Contains(got, `"type":"thinking"`) {
		t.Errorf("history upstream lost the signed thinking block: %s", got)
	}
	if bodies[3]["model"] != "claude-sonnet-4-5@20250929" {
		t.Errorf("count-tokens body model %v", bodies[3]["model"])
	}
}

func TestClaudeSDKOnBedrockClaudeNative(t *testing.T) {
	up := providertest.NewBedrock(t, providertest.ClaudeInvoke(claudeAnswer, claudeEvents, 42))
	gw := startGateway(t, testConfig(bedrockDep(0, "claude-b", "bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0", up.URL())))
	exerciseNative(t, gw, "claude-b", 42)

	seen := up.Requests()
	var ops []string
	for _, s := range seen {
		ops = append(ops, s.Op)
		// CountTokens takes the foundation model, not the
		// cross-region profile.
		want := "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
		if s.Op == "count-tokens" {
			want = "anthropic.claude-sonnet-4-5-20250929-v1:0"
		}
		if s.ModelID != want {
			t.Errorf("%s: model id %q", s.Op, s.ModelID)
		}
		// Betas Bedrock does not know (claude-code, oauth) are dropped;
		// the rest go in the body.
		if b, _ := json.Marshal(s.Body["anthropic_beta"]); string(b) != `["interleaved-thinking-2025-05-14"]` {
			t.Errorf("%s: anthropic_beta %s", s.Op, b)
		}
	}
	if want := []string{"invoke", "invoke-with-response-stream", "invoke", "count-tokens"}; !reflect.DeepEqual(ops, want) {
		t.Fatalf("ops %q", ops)
	}
	if got := signedHistory(t, seen[2].Body); !strings.Contains(got, `"signature":"EqQBCkYIBxgCKkA-sig"`) {
		t.Errorf("history upstream lost the signed thinking block: %s", got)
	}
}

// Claude Code's own request (cache_control, a server tool, thinking
// history with its signature, metadata, context_management) reaches
// Vertex and Bedrock as sent, less the model and stream the host takes
// elsewhere: nothing is dropped in translation.
func TestClaudeCodeReplayNativeHosts(t *testing.T) {
	body, err := os.ReadFile("../upstream/translate/messages/testdata/claude_code_request.json")
	if err != nil {
		t.Fatal(err)
	}
	var sent map[string]any
	if err := json.Unmarshal(body, &sent); err != nil {
		t.Fatal(err)
	}
	vx := providertest.NewVertex(t)
	vx.SetClaude(func(w http.ResponseWriter, r *http.Request, body []byte) {
		providertest.WriteAnthropicEvents(w, claudeEvents...)
	})
	br := providertest.NewBedrock(t, providertest.ClaudeInvoke(claudeAnswer, claudeEvents, 42))
	gw := startGateway(t, testConfig(vertexClaudeDep(t, vx, 0, "claude-*"),
		bedrockDep(1, "bedrock-claude-sonnet-4-5-20250929", "bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0", br.URL())))

	for _, model := range []string{"claude-sonnet-4-5-20250929", "bedrock-claude-sonnet-4-5-20250929"} {
		b := strings.Replace(string(body), `"claude-sonnet-4-5-20250929"`, `"`+model+`"`, 1)
		r := rawRequest(t, gw, "POST", "/v1/messages?beta=true", b,
			"Authorization: Bearer "+testMasterKey, "anthropic-version: 2023-06-01",
			"anthropic-beta: claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,fine-grained-tool-streaming-2025-05-14",
			"User-Agent: claude-cli/2.0.14 (external, cli)", "x-app: cli")
		if r.StatusCode != 200 || !strings.Contains(r.Body, `"signature":"EqQBCkYIBxgCKkA-sig"`) || !strings.Contains(r.Body, "event: message_stop") {
			t.Fatalf("%s: %d %s", model, r.StatusCode, r.Body)
		}
	}
	want := map[string]any{}
	for k, v := range sent {
		if k != "model" && k != "stream" {
			want[k] = v
		}
	}
	vBody := vx.ClaudeBodies()[0]
	vWant := copyWith(want, "anthropic_version", "vertex-2023-10-16")
	vWant["stream"] = true
	if !reflect.DeepEqual(vBody, vWant) {
		t.Errorf("Vertex body\n got %v\nwant %v", vBody, vWant)
	}
	bBody := br.Requests()[0].Body
	bWant := copyWith(want, "anthropic_version", "bedrock-2023-05-31")
	bWant["anthropic_beta"] = []any{"interleaved-thinking-2025-05-14", "context-management-2025-06-27", "fine-grained-tool-streaming-2025-05-14"}
	if !reflect.DeepEqual(bBody, bWant) {
		t.Errorf("Bedrock body\n got %v\nwant %v", bBody, bWant)
	}
	for _, s := range vx.Requests() {
		if s.Path != "/token" && s.Header.Get("Anthropic-Beta") != "interleaved-thinking-2025-05-14,context-management-2025-06-27" {
			t.Errorf("anthropic-beta to Vertex %q", s.Header.Get("Anthropic-Beta"))
		}
	}
}

func copyWith(m map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for mk, mv := range m {
		out[mk] = mv
	}
	out[k] = v
	return out
}

// A Bedrock exception in the middle of an InvokeModel stream ends the
// client's stream with Anthropic's error event; one before the first
// event is the call's error, with Bedrock's status.
func TestBedrockClaudeNativeStreamFailures(t *testing.T) {
	up := providertest.NewBedrock(t, func(w http.ResponseWriter, op string, req map[string]any) {
		providertest.WriteEvents(w, providertest.ESChunk(claudeEvents[0].Data), providertest.ESChunk(claudeEvents[1].Data),
			providertest.ESException("modelStreamErrorException", `{"message":"model stream broke"}`))
	})
	gw := startGateway(t, testConfig(bedrockDep(0, "claude-b", "bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0", up.URL())))
	const body = `{"model":"claude-b","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}`
	r := rawRequest(t, gw, "POST", "/v1/messages", body, "x-api-key: "+testMasterKey, "anthropic-version: 2023-06-01")
	if r.StatusCode != 200 || !strings.Contains(r.Body, "event: message_start") ||
		!strings.HasSuffix(strings.TrimSpace(r.Body), `"message":"bedrock (deployment claude-b-0): model stream broke"}}`) || !strings.Contains(r.Body, "event: error") {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}

	up.SetAnswer(func(w http.ResponseWriter, op string, req map[string]any) {
		providertest.WriteEvents(w, providertest.ESException("throttlingException", `{"message":"Too many requests"}`))
	})
	r = rawRequest(t, gw, "POST", "/v1/messages", body, "x-api-key: "+testMasterKey, "anthropic-version: 2023-06-01")
	if r.StatusCode != 429 || !strings.Contains(r.Body, `"type":"rate_limit_error"`) || !strings.Contains(r.Body, "Too many requests") {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}

	// A stream cut before message_stop is not a complete answer.
	up.SetAnswer(func(w http.ResponseWriter, op string, req map[string]any) {
		providertest.WriteEvents(w, providertest.ESChunk(claudeEvents[0].Data))
	})
	r = rawRequest(t, gw, "POST", "/v1/messages", body, "x-api-key: "+testMasterKey, "anthropic-version: 2023-06-01")
	if r.StatusCode != 200 || !strings.Contains(r.Body, "event: error") || !strings.Contains(r.Body, "before message_stop") {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
}
