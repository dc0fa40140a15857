package providertest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// BedrockCreds are the known test credentials the fake Bedrock verifies
// signatures with; BedrockRegion is its region.
var BedrockCreds = aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}

const BedrockRegion = "eu-west-3"

// BedrockAnswer answers a verified request: op is "converse",
// "converse-stream", "invoke", "invoke-with-response-stream" or
// "count-tokens", req the decoded body (for count-tokens, the decoded
// InvokeModel body it counts).
type BedrockAnswer func(w http.ResponseWriter, op string, req map[string]any)

// Bedrock is a bedrock-runtime endpoint written from the Amazon
// Bedrock API reference: POST /model/{modelId}/converse answers a
// Converse JSON document, POST /model/{modelId}/converse-stream answers
// application/vnd.amazon.eventstream messages; /invoke,
// /invoke-with-response-stream and /count-tokens take Claude's native
// body (anthropic_version bedrock-2023-05-31, no model, no stream). Every request's SigV4
// signature is recomputed with the AWS SDK's signer from Creds; a
// mismatch gets Bedrock's 403.
type Bedrock struct {
	*Upstream
	t      testing.TB
	mu     sync.Mutex
	creds  aws.Credentials
	seen   []BedrockSeen
	answer BedrockAnswer
}

// BedrockSeen is one verified request the fake received.
type BedrockSeen struct {
	RequestURI string
	Op         string
	ModelID    string
	Header     http.Header
	Body       map[string]any
}

// NewBedrock starts a fake Bedrock answering with answer until the test
// ends; its URL is the aws_bedrock_runtime_endpoint.
func NewBedrock(t testing.TB, answer BedrockAnswer) *Bedrock {
	f := &Bedrock{Upstream: NewUpstream(t, nil), t: t, creds: BedrockCreds, answer: answer}
	f.SetHandler(f.serve)
	return f
}

// BedrockParams are the litellm_params of a deployment on the fake at
// endpoint, signing with BedrockCreds.
func BedrockParams(endpoint string) map[string]any {
	return map[string]any{
		"aws_access_key_id":            BedrockCreds.AccessKeyID,
		"aws_secret_access_key":        BedrockCreds.SecretAccessKey,
		"aws_region_name":              BedrockRegion,
		"aws_bedrock_runtime_endpoint": endpoint,
	}
}

// SetAnswer changes how the next requests are answered.
func (f *Bedrock) SetAnswer(a BedrockAnswer) {
	f.mu.Lock()
	f.answer = a
	f.mu.Unlock()
}

// RequireSessionToken makes signatures valid only with the session
// token tok (temporary credentials).
func (f *Bedrock) RequireSessionToken(tok string) {
	f.mu.Lock()
	f.creds.SessionToken = tok
	f.mu.Unlock()
}

// Requests is every verified request so far (Upstream.Requests has
// every request received).
func (f *Bedrock) Requests() []BedrockSeen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]BedrockSeen(nil), f.seen...)
}

func (f *Bedrock) serve(w http.ResponseWriter, r *http.Request, body []byte) {
	// /model/{modelId}/converse[-stream], modelId path-escaped.
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/model/")
	id, op, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || !bedrockOps[op] || r.Method != http.MethodPost {
		w.WriteHeader(404)
		return
	}
	modelID, _ := url.PathUnescape(id)
	f.mu.Lock()
	creds := f.creds
	f.mu.Unlock()
	if err := verifySigV4(r, body, creds, BedrockRegion); err != nil {
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
	if op == "count-tokens" {
		// {"input":{"invokeModel":{"body": base64 of an InvokeModel body}}}
		inner, _ := JSONPath(req, "input", "invokeModel", "body").(string)
		raw, err := base64.StdEncoding.DecodeString(inner)
		req = nil
		if err != nil || json.Unmarshal(raw, &req) != nil {
			w.Header().Set("X-Amzn-ErrorType", "ValidationException")
			w.WriteHeader(400)
			fmt.Fprint(w, `{"message":"input.invokeModel.body is not a base64 JSON document"}`)
			return
		}
	}
	for _, k := range []string{"model", "stream"} {
		if _, has := req[k]; has && (k == "model" || op != "converse" && op != "converse-stream") {
			w.Header().Set("X-Amzn-ErrorType", "ValidationException")
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"message":"extraneous key [%s] is not permitted"}`, k)
			return
		}
	}
	if op != "converse" && op != "converse-stream" && req["anthropic_version"] != "bedrock-2023-05-31" {
		w.Header().Set("X-Amzn-ErrorType", "ValidationException")
		w.WriteHeader(400)
		fmt.Fprint(w, `{"message":"anthropic_version: bedrock-2023-05-31 is required"}`)
		return
	}
	var th struct {
		Additional struct {
			Thinking json.RawMessage `json:"thinking"`
		} `json:"additionalModelRequestFields"`
		Inference struct {
			MaxTokens *int `json:"maxTokens"`
		} `json:"inferenceConfig"`
	}
	_ = json.Unmarshal(body, &th)
	if len(th.Additional.Thinking) > 0 {
		max := -1 // Bedrock's default max tokens: not checked
		if th.Inference.MaxTokens != nil {
			max = *th.Inference.MaxTokens
		}
		if msg := ThinkingError(th.Additional.Thinking, max); msg != "" {
			msg = "The model returned the following errors: " + msg
			w.Header().Set("X-Amzn-ErrorType", "ValidationException")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"message":%q}`, msg)
			return
		}
	}
	f.mu.Lock()
	f.seen = append(f.seen, BedrockSeen{RequestURI: r.RequestURI, Op: op, ModelID: modelID, Header: r.Header.Clone(), Body: req})
	answer := f.answer
	f.mu.Unlock()
	answer(w, op, req)
}

var bedrockOps = map[string]bool{"converse": true, "converse-stream": true, "invoke": true, "invoke-with-response-stream": true, "count-tokens": true}

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

// ESMessage encodes one event stream message with string headers, as
// the AWS event stream encoding specifies (prelude CRC, message CRC).
func ESMessage(headers [][2]string, payload string) []byte {
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

// ESEvent is a ConverseStream event message of type typ.
func ESEvent(typ, payload string) []byte {
	return ESMessage([][2]string{{":event-type", typ}, {":content-type", "application/json"}, {":message-type", "event"}}, payload)
}

// ESException is a ConverseStream exception message of type typ.
func ESException(typ, payload string) []byte {
	return ESMessage([][2]string{{":exception-type", typ}, {":content-type", "application/json"}, {":message-type", "exception"}}, payload)
}

// WriteEvents streams messages one per write+flush, each split in two
// writes to exercise incremental decoding.
func WriteEvents(w http.ResponseWriter, msgs ...[]byte) {
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

// ConverseText answers a Converse JSON document with text.
func ConverseText(text, stop string) BedrockAnswer {
	return func(w http.ResponseWriter, op string, req map[string]any) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"output":{"message":{"role":"assistant","content":[{"text":%q}]}},"stopReason":%q,"usage":{"inputTokens":10,"outputTokens":5,"totalTokens":17,"cacheReadInputTokens":2},"metrics":{"latencyMs":42}}`, text, stop)
	}
}

// ESChunk is an InvokeModelWithResponseStream message carrying one
// Anthropic event (its JSON base64-encoded in "bytes").
func ESChunk(event string) []byte {
	payload, _ := json.Marshal(map[string]string{"bytes": base64.StdEncoding.EncodeToString([]byte(event))})
	return ESMessage([][2]string{{":event-type", "chunk"}, {":content-type", "application/json"}, {":message-type", "event"}}, string(payload))
}

// ClaudeInvoke answers Claude's native operations: invoke with message
// (an Anthropic message document), invoke-with-response-stream with
// events as chunks, count-tokens with inputTokens.
func ClaudeInvoke(message string, events []AnEvent, inputTokens int) BedrockAnswer {
	return func(w http.ResponseWriter, op string, req map[string]any) {
		switch op {
		case "invoke":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, message)
		case "invoke-with-response-stream":
			msgs := make([][]byte, len(events))
			for i, ev := range events {
				msgs[i] = ESChunk(ev.Data)
			}
			WriteEvents(w, msgs...)
		case "count-tokens":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"inputTokens":%d}`, inputTokens)
		default:
			w.Header().Set("X-Amzn-ErrorType", "ValidationException")
			w.WriteHeader(400)
			fmt.Fprint(w, `{"message":"this fake model answers only InvokeModel"}`)
		}
	}
}
