package server

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/openai/openai-go/v3"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/llmedge/llmedge/config"
	"github.com/openai/openai-go/v3/shared"
)

// Known test credentials the fake Bedrock verifies signatures with.
var bedrockTestCreds = aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}

const bedrockTestRegion = "eu-west-3"

// fakeBedrock is a bedrock-runtime endpoint written from the Amazon
// Bedrock API reference: POST /model/{modelId}/converse answers a
// Converse JSON document, POST /model/{modelId}/converse-stream answers
// application/vnd.amazon.eventstream messages. Every request's SigV4
// signature is recomputed with the AWS SDK's signer from the known test
// credentials; a mismatch gets Bedrock's 403.
type fakeBedrock struct {
	t     *testing.T
	ln    net.Listener
	creds aws.Credentials
	mu    sync.Mutex
	seen  []bedrockSeen
	// answer handles a verified request.
	answer func(w http.ResponseWriter, op string, req map[string]any)
}

type bedrockSeen struct {
	RequestURI string
	Op         string
	ModelID    string
	Header     http.Header
	Body       map[string]any
}

func newFakeBedrock(t *testing.T) *fakeBedrock {
	f := &fakeBedrock{t: t, creds: bedrockTestCreds}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.ln = ln
	srv := &http.Server{Handler: http.HandlerFunc(f.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return f
}

func (f *fakeBedrock) base() string { return "http://" + f.ln.Addr().String() }

func (f *fakeBedrock) requests() []bedrockSeen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]bedrockSeen(nil), f.seen...)
}

func (f *fakeBedrock) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	// /model/{modelId}/converse[-stream], modelId path-escaped.
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/model/")
	id, op, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || (op != "converse" && op != "converse-stream") || r.Method != http.MethodPost {
		w.WriteHeader(404)
		return
	}
	modelID, _ := url.PathUnescape(id)
	if err := verifySigV4(r, body, f.creds, bedrockTestRegion); err != nil {
		f.t.Logf("sigv4: %v; uri %q headers %v", err, r.RequestURI, r.Header)
		w.Header().Set("X-Amzn-ErrorType", "InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(403)
		fmt.Fprintf(w, `{"message":%q}`, "The request signature we calculated does not match the signature you provided. "+err.Error())
		return
	}
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		w.Header().Set("X-Amzn-ErrorType", "ValidationException")
		w.WriteHeader(400)
		fmt.Fprint(w, `{"message":"Malformed input request"}`)
		return
	}
	if _, has := req["model"]; has {
		w.WriteHeader(400)
		fmt.Fprint(w, `{"message":"extraneous key [model] is not permitted"}`)
		return
	}
	f.mu.Lock()
	f.seen = append(f.seen, bedrockSeen{RequestURI: r.RequestURI, Op: op, ModelID: modelID, Header: r.Header.Clone(), Body: req})
	answer := f.answer
	f.mu.Unlock()
	answer(w, op, req)
}

// verifySigV4 recomputes the request's signature with the AWS SDK signer
// over the headers it claims to sign and compares.
func verifySigV4(r *http.Request, body []byte, creds aws.Credentials, region string) error {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") {
		return errors.New("no SigV4 Authorization header")
	}
	var signed []string
	for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ", ") {
		if v, ok := strings.CutPrefix(part, "SignedHeaders="); ok {
			signed = strings.Split(v, ";")
		}
	}
	for _, must := range []string{"host", "x-amz-date", "content-type"} {
		found := false
		for _, s := range signed {
			found = found || s == must
		}
		if !found {
			return fmt.Errorf("%s is not signed", must)
		}
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return errors.New("bad X-Amz-Date")
	}
	if d := time.Since(when); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("signature expired")
	}
	u := &url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath}
	check := &http.Request{Method: r.Method, URL: u, Host: r.Host, Header: http.Header{}}
	for _, s := range signed {
		if s == "host" {
			continue
		}
		check.Header[http.CanonicalHeaderKey(s)] = r.Header.Values(s)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, check, hex.EncodeToString(sum[:]), "bedrock", region, when); err != nil {
		return err
	}
	if got := check.Header.Get("Authorization"); got != auth {
		return errors.New("signature mismatch")
	}
	return nil
}

// esMessage encodes one event stream message with string headers.
func esMessage(headers [][2]string, payload string) []byte {
	var hb []byte
	for _, h := range headers {
		hb = append(hb, byte(len(h[0])))
		hb = append(hb, h[0]...)
		hb = append(hb, 7)
		hb = binary.BigEndian.AppendUint16(hb, uint16(len(h[1])))
		hb = append(hb, h[1]...)
	}
	total := 12 + len(hb) + len(payload) + 4
	b := binary.BigEndian.AppendUint32(nil, uint32(total))
	b = binary.BigEndian.AppendUint32(b, uint32(len(hb)))
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	b = append(b, hb...)
	b = append(b, payload...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

func esEvent(typ, payload string) []byte {
	return esMessage([][2]string{{":event-type", typ}, {":content-type", "application/json"}, {":message-type", "event"}}, payload)
}

// writeEvents streams messages one per write+flush, each split in two
// writes to exercise incremental decoding.
func writeEvents(w http.ResponseWriter, msgs ...[]byte) {
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.WriteHeader(200)
	fl := w.(http.Flusher)
	for _, m := range msgs {
		half := len(m) / 2
		_, _ = w.Write(m[:half])
		fl.Flush()
		_, _ = w.Write(m[half:])
		fl.Flush()
	}
}

func bedrockDep(i int, name, model, endpoint string) *config.Deployment {
	d := dep(i, name, model, "", "")
	d.Params = map[string]any{
		"aws_access_key_id":            bedrockTestCreds.AccessKeyID,
		"aws_secret_access_key":        bedrockTestCreds.SecretAccessKey,
		"aws_region_name":              bedrockTestRegion,
		"aws_bedrock_runtime_endpoint": endpoint,
	}
	return d
}

func converseText(text, stop string) func(http.ResponseWriter, string, map[string]any) {
	return func(w http.ResponseWriter, op string, req map[string]any) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"output":{"message":{"role":"assistant","content":[{"text":%q}]}},"stopReason":%q,"usage":{"inputTokens":10,"outputTokens":5,"totalTokens":17,"cacheReadInputTokens":2},"metrics":{"latencyMs":42}}`, text, stop)
	}
}

func jsonPath(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func TestBedrockConverseText(t *testing.T) {
	up := newFakeBedrock(t)
	up.answer = converseText("Bonjour.", "max_tokens")
	gw := startGateway(t, testConfig(bedrockDep(0, "claude", "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", up.base())))
	client := sdk(gw, testMasterKey)
	p := openai.ChatCompletionNewParams{
		Model: "claude",
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("Be brief."),
			openai.UserMessage("Say hello in French."),
		},
		MaxTokens:   openai.Int(64),
		Temperature: openai.Float(0.2),
		Stop:        openai.ChatCompletionNewParamsStopUnion{OfString: openai.String("END")},
	}
	resp, err := client.Chat.Completions.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != "Bonjour." || resp.Choices[0].FinishReason != "length" {
		t.Fatalf("content %q finish %q", resp.Choices[0].Message.Content, resp.Choices[0].FinishReason)
	}
	if resp.Model != "claude" || resp.Object != "chat.completion" || !strings.HasPrefix(resp.ID, "chatcmpl-") {
		t.Fatalf("envelope %+v", resp)
	}
	if u := resp.Usage; u.PromptTokens != 12 || u.CompletionTokens != 5 || u.TotalTokens != 17 || u.PromptTokensDetails.CachedTokens != 2 {
		t.Fatalf("usage %+v", u)
	}
	seen := up.requests()[0]
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
	up := newFakeBedrock(t)
	up.answer = func(w http.ResponseWriter, op string, req map[string]any) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"output":{"message":{"role":"assistant","content":[{"text":"Let me check."},{"toolUse":{"toolUseId":"tooluse_1","name":"get_weather","input":{"city": "Paris"}}}]}},"stopReason":"tool_use","usage":{"inputTokens":20,"outputTokens":9,"totalTokens":29}}`)
	}
	gw := startGateway(t, testConfig(bedrockDep(0, "nova", "bedrock/converse/amazon.nova-pro-v1:0", up.base())))
	client := sdk(gw, testMasterKey)
	tool := openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
		Name:        "get_weather",
		Description: openai.String("Weather for a city"),
		Parameters:  shared.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
	})
	p := openai.ChatCompletionNewParams{Model: "nova", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Weather in Paris?")},
		Tools: []openai.ChatCompletionToolUnionParam{tool}, ToolChoice: openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")}}
	resp, err := client.Chat.Completions.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	c := resp.Choices[0]
	if c.FinishReason != "tool_calls" || len(c.Message.ToolCalls) != 1 || c.Message.Content != "Let me check." {
		t.Fatalf("choice %+v", c)
	}
	call := c.Message.ToolCalls[0]
	if call.ID != "tooluse_1" || call.Function.Name != "get_weather" || call.Function.Arguments != `{"city":"Paris"}` {
		t.Fatalf("tool call %+v", call)
	}
	first := up.requests()[0]
	if first.ModelID != "amazon.nova-pro-v1:0" {
		t.Fatalf("converse/ route marker not stripped: %q", first.ModelID)
	}
	if jsonPath(first.Body, "toolConfig", "tools", 0, "toolSpec", "name") != "get_weather" ||
		jsonPath(first.Body, "toolConfig", "tools", 0, "toolSpec", "inputSchema", "json", "type") != "object" ||
		jsonPath(first.Body, "toolConfig", "toolChoice", "any") == nil {
		t.Fatalf("toolConfig %v", first.Body["toolConfig"])
	}

	// Second turn: the assistant's tool call and the tool's answer.
	up.answer = converseText("It is sunny.", "end_turn")
	p.Messages = append(p.Messages, c.Message.ToParam(), openai.ToolMessage("18C and sunny", "tooluse_1"))
	resp, err = client.Chat.Completions.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != "It is sunny." || resp.Choices[0].FinishReason != "stop" {
		t.Fatalf("second turn %+v", resp.Choices[0])
	}
	b := up.requests()[1].Body
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
	up := newFakeBedrock(t)
	up.answer = func(w http.ResponseWriter, op string, req map[string]any) {
		if op != "converse-stream" {
			w.WriteHeader(400)
			return
		}
		writeEvents(w,
			esEvent("messageStart", `{"role":"assistant","p":"abc"}`),
			esEvent("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"Checking "}}`),
			esEvent("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"the \"weather\"."}}`),
			esEvent("contentBlockStop", `{"contentBlockIndex":0}`),
			esEvent("contentBlockStart", `{"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"tu_9","name":"get_weather"}}}`),
			esEvent("contentBlockDelta", `{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"city\":"}}}`),
			esEvent("contentBlockDelta", `{"contentBlockIndex":1,"delta":{"toolUse":{"input":"\"Paris\"}"}}}`),
			esEvent("contentBlockStop", `{"contentBlockIndex":1}`),
			esEvent("messageStop", `{"stopReason":"tool_use"}`),
			esEvent("metadata", `{"usage":{"inputTokens":30,"outputTokens":12,"totalTokens":42},"metrics":{"latencyMs":100}}`),
		)
	}
	gw := startGateway(t, testConfig(bedrockDep(0, "claude", "bedrock/us.anthropic.claude-sonnet-4-20250514-v1:0", up.base())))
	client := sdk(gw, testMasterKey)
	p := userMsg("weather?")
	p.Model = "claude"
	p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	acc := openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
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
	seen := up.requests()[0]
	if seen.Header.Get("Accept") != "application/vnd.amazon.eventstream" || seen.Op != "converse-stream" {
		t.Fatalf("stream request %q %q", seen.Op, seen.Header.Get("Accept"))
	}

	// Raw: every chunk is a separate SSE event, ending with [DONE].
	raw := rawPost(t, gw, "/v1/chat/completions", `{"model":"claude","stream":true,"messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if !strings.HasPrefix(raw.Header.Get("Content-Type"), "text/event-stream") || !strings.HasSuffix(raw.Body, "data: [DONE]\n\n") {
		t.Fatalf("raw stream %q", raw.Body)
	}
	if strings.Contains(raw.Body, `"usage"`) {
		t.Fatalf("usage chunk without include_usage: %q", raw.Body)
	}
}

func TestBedrockErrors(t *testing.T) {
	up := newFakeBedrock(t)
	up.answer = func(w http.ResponseWriter, op string, req map[string]any) {
		if op == "converse-stream" {
			writeEvents(w,
				esEvent("messageStart", `{"role":"assistant"}`),
				esEvent("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"part"}}`),
				esMessage([][2]string{{":exception-type", "throttlingException"}, {":content-type", "application/json"}, {":message-type", "exception"}},
					`{"message":"Too many tokens, please wait before trying again."}`),
			)
			return
		}
		w.Header().Set("X-Amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(429)
		fmt.Fprint(w, `{"message":"Too many requests, please wait before trying again."}`)
	}
	good := bedrockDep(0, "m", "bedrock/amazon.nova-lite-v1:0", up.base())
	wrong := bedrockDep(1, "wrong", "bedrock/amazon.nova-lite-v1:0", up.base())
	wrong.Params["aws_secret_access_key"] = "not-the-secret-key"
	gw := startGateway(t, testConfig(good, wrong))
	client := sdk(gw, testMasterKey)

	p := userMsg("x")
	p.Model = "m"
	_, err := client.Chat.Completions.New(context.Background(), p)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Code != "ThrottlingException" || !strings.Contains(apiErr.Message, "Too many requests") {
		t.Fatalf("throttled: %v", err)
	}

	// A wrong secret key fails the fake's signature check: proof it checks.
	p.Model = "wrong"
	_, err = client.Chat.Completions.New(context.Background(), p)
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 403 || strings.Contains(apiErr.Message, "not-the-secret-key") {
		t.Fatalf("bad signature: %v", err)
	}

	// An exception mid-stream ends the client's stream with an error.
	raw := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if !strings.Contains(raw.Body, `"content":"part"`) || !strings.Contains(raw.Body, `"code":"throttlingException"`) || !strings.HasSuffix(raw.Body, "data: [DONE]\n\n") {
		t.Fatalf("mid-stream exception: %q", raw.Body)
	}

	// Bad input is a 400 naming the field, before any upstream call.
	n := len(up.requests())
	bad := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","n":2,"messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if bad.StatusCode != 400 || !strings.Contains(bad.Body, `"param":"n"`) || len(up.requests()) != n {
		t.Fatalf("n=2: %d %s", bad.StatusCode, bad.Body)
	}
}

func TestBedrockSessionTokenAndEnvCredentials(t *testing.T) {
	up := newFakeBedrock(t)
	up.creds.SessionToken = "FwoGZXIvYXdzEXAMPLETOKEN"
	ok := converseText("ok", "end_turn")
	up.answer = func(w http.ResponseWriter, op string, req map[string]any) {
		if strings.Contains(fmt.Sprint(req), "echo the token") {
			// As SigV4 errors do: the canonical request, token included.
			w.Header().Set("X-Amzn-ErrorType", "UnrecognizedClientException:http://internal.amazon.com/coral/com.amazon.coral.service/")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(403)
			fmt.Fprintf(w, `{"message":"The security token included in the request is invalid. x-amz-security-token:%s"}`, up.creds.SessionToken)
			return
		}
		ok(w, op, req)
	}
	d := dep(0, "m", "bedrock/meta.llama3-70b-instruct-v1:0", "", "")
	d.Params = map[string]any{"aws_bedrock_runtime_endpoint": up.base()}
	env := map[string]string{
		"AWS_ACCESS_KEY_ID":     bedrockTestCreds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": bedrockTestCreds.SecretAccessKey,
		"AWS_SESSION_TOKEN":     up.creds.SessionToken,
		"AWS_REGION":            bedrockTestRegion,
	}
	gw := startGatewayEnv(t, testConfig(d), env)
	client := sdk(gw, testMasterKey)
	p := userMsg("x")
	p.Model = "m"
	if _, err := client.Chat.Completions.New(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	h := up.requests()[0].Header
	if h.Get("X-Amz-Security-Token") != up.creds.SessionToken || !strings.Contains(h.Get("Authorization"), "x-amz-security-token") ||
		!strings.Contains(h.Get("Authorization"), "/"+bedrockTestRegion+"/bedrock/aws4_request") {
		t.Fatalf("headers %v", h)
	}
	// The session token came from the environment, not the config: it
	// is scrubbed from an upstream error that echoes it all the same.
	p = userMsg("echo the token")
	p.Model = "m"
	_, err := client.Chat.Completions.New(context.Background(), p)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 403 || strings.Contains(apiErr.Message, up.creds.SessionToken) ||
		strings.Contains(string(apiErr.DumpResponse(true)), up.creds.SessionToken) || !strings.Contains(apiErr.Message, "[REDACTED]") {
		t.Fatalf("echoed session token: %v", err)
	}
}

func TestBedrockWithoutCredentialsIs503(t *testing.T) {
	d := dep(0, "m", "bedrock/amazon.nova-lite-v1:0", "", "")
	gw := startGateway(t, testConfig(d))
	resp := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if resp.StatusCode != 503 || !strings.Contains(resp.Body, "AWS_ACCESS_KEY_ID") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
}
