package bedrock_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/llmedge/llmedge/upstream/upstreamtest"
)

// Bedrock's Converse API against a fake bedrock-runtime that checks
// every SigV4 signature (providertest.Bedrock): what llmedge sends and
// what the client gets back.

var jsonPath = providertest.JSONPath

func bedrockDep(name, model, endpoint string) *config.Deployment {
	d := upstreamtest.Dep(name, model, "", "")
	d.Params = providertest.BedrockParams(endpoint)
	return d
}

func TestBedrockConverseText(t *testing.T) {
	up := providertest.NewBedrock(t, providertest.ConverseText("Bonjour.", "max_tokens"))
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "", bedrockDep("claude", "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", up.URL())), nil)
	resp := upstreamtest.Chat(t, reg, `{"model":"claude","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Say hello in French."}],"max_tokens":64,"temperature":0.2,"stop":"END"}`).Completion(t)
	if resp.Choices[0].Message.Content != "Bonjour." || resp.Choices[0].FinishReason != "length" {
		t.Fatalf("content %q finish %q", resp.Choices[0].Message.Content, resp.Choices[0].FinishReason)
	}
	if resp.Model != "claude" || resp.Object != "chat.completion" || !strings.HasPrefix(resp.ID, "chatcmpl-") {
		t.Fatalf("envelope %+v", resp)
	}
	if u := resp.Usage; u.PromptTokens != 12 || u.CompletionTokens != 5 || u.TotalTokens != 17 || u.PromptTokensDetails.CachedTokens != 2 {
		t.Fatalf("usage %+v", u)
	}
	seen := up.Requests()[0]
	if seen.ModelID != "anthropic.claude-3-5-sonnet-20240620-v1:0" || !strings.Contains(seen.RequestURI, "v1%3A0/converse") {
		t.Fatalf("model %q uri %q", seen.ModelID, seen.RequestURI)
	}
	b := seen.Body
	if jsonPath(b, "system", 0, "text") != "Be brief." || jsonPath(b, "messages", 0, "role") != "user" ||
		jsonPath(b, "messages", 0, "content", 0, "text") != "Say hello in French." {
		t.Fatalf("converse body %v", b)
	}
	if jsonPath(b, "inferenceConfig", "maxTokens") != 64.0 || jsonPath(b, "inferenceConfig", "temperature") != 0.2 ||
		jsonPath(b, "inferenceConfig", "stopSequences", 0) != "END" {
		t.Fatalf("inferenceConfig %v", b["inferenceConfig"])
	}
}

func TestBedrockConverseTools(t *testing.T) {
	up := providertest.NewBedrock(t, func(w http.ResponseWriter, op string, req map[string]any) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"output":{"message":{"role":"assistant","content":[{"text":"Let me check."},{"toolUse":{"toolUseId":"tooluse_1","name":"get_weather","input":{"city": "Paris"}}}]}},"stopReason":"tool_use","usage":{"inputTokens":20,"outputTokens":9,"totalTokens":29}}`)
	})
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "", bedrockDep("nova", "bedrock/converse/amazon.nova-pro-v1:0", up.URL())), nil)
	tools := `"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather for a city","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],"tool_choice":"required"`
	resp := upstreamtest.Chat(t, reg, `{"model":"nova","messages":[{"role":"user","content":"Weather in Paris?"}],`+tools+`}`).Completion(t)
	c := resp.Choices[0]
	if c.FinishReason != "tool_calls" || len(c.Message.ToolCalls) != 1 || c.Message.Content != "Let me check." {
		t.Fatalf("choice %+v", c)
	}
	call := c.Message.ToolCalls[0]
	if call.ID != "tooluse_1" || call.Function.Name != "get_weather" || call.Function.Arguments != `{"city":"Paris"}` {
		t.Fatalf("tool call %+v", call)
	}
	first := up.Requests()[0]
	if first.ModelID != "amazon.nova-pro-v1:0" {
		t.Fatalf("converse/ route marker not stripped: %q", first.ModelID)
	}
	if jsonPath(first.Body, "toolConfig", "tools", 0, "toolSpec", "name") != "get_weather" ||
		jsonPath(first.Body, "toolConfig", "tools", 0, "toolSpec", "inputSchema", "json", "type") != "object" ||
		jsonPath(first.Body, "toolConfig", "toolChoice", "any") == nil {
		t.Fatalf("toolConfig %v", first.Body["toolConfig"])
	}

	// Second turn: the assistant's tool call and the tool's answer.
	up.SetAnswer(providertest.ConverseText("It is sunny.", "end_turn"))
	resp = upstreamtest.Chat(t, reg, `{"model":"nova","messages":[{"role":"user","content":"Weather in Paris?"},`+
		`{"role":"assistant","content":"Let me check.","tool_calls":[{"id":"tooluse_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},`+
		`{"role":"tool","tool_call_id":"tooluse_1","content":"18C and sunny"}],`+tools+`}`).Completion(t)
	if resp.Choices[0].Message.Content != "It is sunny." || resp.Choices[0].FinishReason != "stop" {
		t.Fatalf("second turn %+v", resp.Choices[0])
	}
	b := up.Requests()[1].Body
	if jsonPath(b, "messages", 1, "role") != "assistant" || jsonPath(b, "messages", 1, "content", 1, "toolUse", "toolUseId") != "tooluse_1" ||
		jsonPath(b, "messages", 1, "content", 1, "toolUse", "input", "city") != "Paris" {
		t.Fatalf("assistant turn %v", jsonPath(b, "messages", 1))
	}
	if jsonPath(b, "messages", 2, "role") != "user" || jsonPath(b, "messages", 2, "content", 0, "toolResult", "toolUseId") != "tooluse_1" ||
		jsonPath(b, "messages", 2, "content", 0, "toolResult", "content", 0, "text") != "18C and sunny" {
		t.Fatalf("tool result turn %v", jsonPath(b, "messages", 2))
	}
}

func TestBedrockConverseStream(t *testing.T) {
	es := providertest.ESEvent
	up := providertest.NewBedrock(t, func(w http.ResponseWriter, op string, req map[string]any) {
		if op != "converse-stream" {
			w.WriteHeader(400)
			return
		}
		providertest.WriteEvents(w,
			es("messageStart", `{"role":"assistant","p":"abc"}`),
			es("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"Checking "}}`),
			es("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"the \"weather\"."}}`),
			es("contentBlockStop", `{"contentBlockIndex":0}`),
			es("contentBlockStart", `{"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"tu_9","name":"get_weather"}}}`),
			es("contentBlockDelta", `{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"city\":"}}}`),
			es("contentBlockDelta", `{"contentBlockIndex":1,"delta":{"toolUse":{"input":"\"Paris\"}"}}}`),
			es("contentBlockStop", `{"contentBlockIndex":1}`),
			es("messageStop", `{"stopReason":"tool_use"}`),
			es("metadata", `{"usage":{"inputTokens":30,"outputTokens":12,"totalTokens":42},"metrics":{"latencyMs":100}}`),
		)
	})
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "", bedrockDep("claude", "bedrock/us.anthropic.claude-sonnet-4-20250514-v1:0", up.URL())), nil)
	r := upstreamtest.Chat(t, reg, `{"model":"claude","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"weather?"}]}`)
	acc := r.Accumulate(t)
	c := acc.Choices[0]
	if c.Message.Content != `Checking the "weather".` || c.FinishReason != "tool_calls" {
		t.Fatalf("content %q finish %q", c.Message.Content, c.FinishReason)
	}
	if len(c.Message.ToolCalls) != 1 || c.Message.ToolCalls[0].ID != "tu_9" || c.Message.ToolCalls[0].Function.Arguments != `{"city":"Paris"}` {
		t.Fatalf("tool calls %+v", c.Message.ToolCalls)
	}
	if acc.Usage.PromptTokens != 30 || acc.Usage.CompletionTokens != 12 || acc.Usage.TotalTokens != 42 {
		t.Fatalf("usage %+v", acc.Usage)
	}
	seen := up.Requests()[0]
	if seen.Header.Get("Accept") != "application/vnd.amazon.eventstream" || seen.Op != "converse-stream" {
		t.Fatalf("stream request %q %q", seen.Op, seen.Header.Get("Accept"))
	}

	// Every chunk is a separate SSE event, ending with [DONE]; no usage
	// chunk unless asked.
	raw := upstreamtest.Chat(t, reg, `{"model":"claude","stream":true,"messages":[{"role":"user","content":"x"}]}`)
	if raw.RelayErr != nil || !strings.HasSuffix(raw.Body, "data: [DONE]\n\n") {
		t.Fatalf("raw stream %v %q", raw.RelayErr, raw.Body)
	}
	if strings.Contains(raw.Body, `"usage"`) {
		t.Fatalf("usage chunk without include_usage: %q", raw.Body)
	}
}

func TestBedrockErrors(t *testing.T) {
	up := providertest.NewBedrock(t, func(w http.ResponseWriter, op string, req map[string]any) {
		if op == "converse-stream" {
			providertest.WriteEvents(w,
				providertest.ESEvent("messageStart", `{"role":"assistant"}`),
				providertest.ESEvent("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"part"}}`),
				providertest.ESException("throttlingException", `{"message":"Too many tokens, please wait before trying again."}`),
			)
			return
		}
		w.Header().Set("X-Amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(429)
		fmt.Fprint(w, `{"message":"Too many requests, please wait before trying again."}`)
	})
	good := bedrockDep("m", "bedrock/amazon.nova-lite-v1:0", up.URL())
	wrong := bedrockDep("wrong", "bedrock/amazon.nova-lite-v1:0", up.URL())
	wrong.Params["aws_secret_access_key"] = "not-the-secret-key"
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "router_settings: {num_retries: 0}", good, wrong), nil)

	r := upstreamtest.Chat(t, reg, `{"model":"m","messages":[{"role":"user","content":"x"}]}`)
	if r.Status != 429 || r.Err.Code != "ThrottlingException" || !strings.Contains(r.Err.Message, "Too many requests") {
		t.Fatalf("throttled: %d %s", r.Status, r.Body)
	}

	// A wrong secret key fails the fake's signature check: proof it checks.
	r = upstreamtest.Chat(t, reg, `{"model":"wrong","messages":[{"role":"user","content":"x"}]}`)
	if r.Status != 403 || strings.Contains(r.Body, "not-the-secret-key") {
		t.Fatalf("bad signature: %d %s", r.Status, r.Body)
	}

	// An exception mid-stream ends the client's stream with an error.
	r = upstreamtest.Chat(t, reg, `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`)
	if !strings.Contains(r.Body, `"content":"part"`) || !strings.Contains(r.Body, `"code":"throttlingException"`) || !strings.HasSuffix(r.Body, "data: [DONE]\n\n") {
		t.Fatalf("mid-stream exception: %q", r.Body)
	}

	// Bad input is a 400 naming the field, before any upstream call.
	n := len(up.Requests())
	r = upstreamtest.Chat(t, reg, `{"model":"m","n":2,"messages":[{"role":"user","content":"x"}]}`)
	if r.Status != 400 || !strings.Contains(r.Body, `"param":"n"`) || len(up.Requests()) != n {
		t.Fatalf("n=2: %d %s", r.Status, r.Body)
	}
}

// A Bedrock exception as the stream's first event is a failure before
// the answer: the client gets its status, not a stream.
func TestBedrockThrottlingAsFirstEventIs429(t *testing.T) {
	up := providertest.NewBedrock(t, func(w http.ResponseWriter, op string, req map[string]any) {
		providertest.WriteEvents(w, providertest.ESException("throttlingException", `{"message":"Too many tokens, please wait before trying again."}`))
	})
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "router_settings: {num_retries: 0}", bedrockDep("m", "bedrock/amazon.nova-lite-v1:0", up.URL())), nil)
	r := upstreamtest.Chat(t, reg, `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`)
	if r.Err == nil || r.Status != 429 || r.Err.Code != "throttlingException" || !strings.Contains(r.Err.Message, "Too many tokens") {
		t.Fatalf("first-event exception: %d %s", r.Status, r.Body)
	}
}

func TestBedrockSessionTokenAndEnvCredentials(t *testing.T) {
	const token = "FwoGZXIvYXdzEXAMPLETOKEN"
	ok := providertest.ConverseText("ok", "end_turn")
	up := providertest.NewBedrock(t, func(w http.ResponseWriter, op string, req map[string]any) {
		if strings.Contains(fmt.Sprint(req), "echo the token") {
			// As SigV4 errors do: the canonical request, token included.
			w.Header().Set("X-Amzn-ErrorType", "UnrecognizedClientException:http://internal.amazon.com/coral/com.amazon.coral.service/")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(403)
			fmt.Fprintf(w, `{"message":"The security token included in the request is invalid. x-amz-security-token:%s"}`, token)
			return
		}
		ok(w, op, req)
	})
	up.RequireSessionToken(token)
	d := upstreamtest.Dep("m", "bedrock/meta.llama3-70b-instruct-v1:0", "", "")
	d.Params = map[string]any{"aws_bedrock_runtime_endpoint": up.URL()}
	env := map[string]string{
		"AWS_ACCESS_KEY_ID":     providertest.BedrockCreds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": providertest.BedrockCreds.SecretAccessKey,
		"AWS_SESSION_TOKEN":     token,
		"AWS_REGION":            providertest.BedrockRegion,
	}
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "", d), env)
	upstreamtest.Chat(t, reg, `{"model":"m","messages":[{"role":"user","content":"x"}]}`).Completion(t)
	h := up.Requests()[0].Header
	if h.Get("X-Amz-Security-Token") != token || !strings.Contains(h.Get("Authorization"), "x-amz-security-token") ||
		!strings.Contains(h.Get("Authorization"), "/"+providertest.BedrockRegion+"/bedrock/aws4_request") {
		t.Fatalf("headers %v", h)
	}
	// The session token came from the environment, not the config: it
	// is scrubbed from an upstream error that echoes it all the same.
	r := upstreamtest.Chat(t, reg, `{"model":"m","messages":[{"role":"user","content":"echo the token"}]}`)
	if r.Status != 403 || strings.Contains(r.Body, token) || strings.Contains(r.Err.Message, token) || !strings.Contains(r.Body, "[REDACTED]") {
		t.Fatalf("echoed session token: %d %s", r.Status, r.Body)
	}
}

func TestBedrockWithoutCredentialsIs503(t *testing.T) {
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "", upstreamtest.Dep("m", "bedrock/amazon.nova-lite-v1:0", "", "")), nil)
	r := upstreamtest.Chat(t, reg, `{"model":"m","messages":[{"role":"user","content":"x"}]}`)
	if r.Status != 503 || !strings.Contains(r.Body, "AWS_ACCESS_KEY_ID") {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
}

// Claude on Bedrock refuses a thinking budget below 1024 and maxTokens
// not above it, as Anthropic does: both are fitted before sending.
func TestBedrockThinkingBudgetRaisedToMinimum(t *testing.T) {
	up := providertest.NewBedrock(t, providertest.ConverseText("ok", "end_turn"))
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "", bedrockDep("claude", "bedrock/anthropic.claude-sonnet-4-5-v1:0", up.URL())), nil)
	resp := upstreamtest.Chat(t, reg, `{"model":"claude","max_tokens":300,"thinking":{"type":"enabled","budget_tokens":200},"messages":[{"role":"user","content":"x"}]}`).Completion(t)
	if resp.Choices[0].Message.Content != "ok" {
		t.Fatalf("content %q", resp.Choices[0].Message.Content)
	}
	b := up.Requests()[0].Body
	if jsonPath(b, "additionalModelRequestFields", "thinking", "budget_tokens") != 1024.0 || jsonPath(b, "inferenceConfig", "maxTokens") != 1324.0 {
		t.Fatalf("thinking %v inferenceConfig %v", b["additionalModelRequestFields"], b["inferenceConfig"])
	}
}

// A ConverseStream repeating one text delta is ended at
// REPEATED_STREAMING_CHUNK_LIMIT with the chat error event.
func TestBedrockRepeatedChunksEndStream(t *testing.T) {
	up := providertest.NewBedrock(t, func(w http.ResponseWriter, op string, req map[string]any) {
		msgs := [][]byte{providertest.ESEvent("messageStart", `{"role":"assistant"}`)}
		for range 50 {
			msgs = append(msgs, providertest.ESEvent("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"loop loop"}}`))
		}
		msgs = append(msgs, providertest.ESEvent("contentBlockStop", `{"contentBlockIndex":0}`), providertest.ESEvent("messageStop", `{"stopReason":"end_turn"}`))
		providertest.WriteEvents(w, msgs...)
	})
	reg := upstreamtest.Registry(t, upstreamtest.Config(t, "litellm_settings:\n  REPEATED_STREAMING_CHUNK_LIMIT: 5\n", bedrockDep("claude", "bedrock/anthropic.claude-sonnet-4-5-v1:0", up.URL())), nil)
	r := upstreamtest.Chat(t, reg, `{"model":"claude","stream":true,"messages":[{"role":"user","content":"x"}]}`)
	if r.RelayErr == nil || !strings.Contains(r.Body, `"code":"repeated_streaming_chunk"`) || strings.Count(r.Body, "loop loop") != 5 {
		t.Fatalf("relay error %v, body %s", r.RelayErr, r.Body)
	}
}
