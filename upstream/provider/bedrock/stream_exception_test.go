package bedrock_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream"
	"github.com/llmedge/llmedge/upstream/provider/bedrock"
)

// A ConverseStream whose first message is an exception fails the call
// before the client got anything: the exception becomes the call's error
// (its status, its type as the code, its message), and a retryable one
// is retried on the next deployment, which answers.
func TestBedrockExceptionAsFirstEvent(t *testing.T) {
	exception := func(typ, msg string) []byte {
		return bedrock.AppendESMessage(nil, [][2]string{{":exception-type", typ}, {":content-type", "application/json"}, {":message-type", "exception"}},
			[]byte(`{"message":"`+msg+`"}`))
	}
	var answer []byte
	answer = append(answer, esEvent("messageStart", `{"role":"assistant"}`)...)
	answer = append(answer, esEvent("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"hi"}}`)...)
	answer = append(answer, esEvent("messageStop", `{"stopReason":"end_turn"}`)...)
	var first atomic.Value // what the failing deployment sends first
	var calls atomic.Int32
	failing := upstreamSending(t, func() []byte { calls.Add(1); return first.Load().([]byte) })
	good := upstreamSending(t, func() []byte { return answer })

	for _, tc := range []struct {
		name, typ, msg string
		status         int
		retried        bool
	}{
		{"throttled", "throttlingException", "Too many tokens", 429, true},
		{"model timeout", "modelTimeoutException", "Model timed out", 408, true},
		{"invalid", "validationException", "Malformed input request", 400, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first.Store(exception(tc.typ, tc.msg))
			calls.Store(0)
			// Alone: the exception is the answer.
			reg := bedrockRegistry(t, "num_retries: 0", failing)
			_, err := streamCall(t, reg)
			var e *upstream.Error
			if !errors.As(err, &e) || e.Status != tc.status || e.Code != tc.typ || !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("error %#v, want status %d code %s", err, tc.status, tc.typ)
			}
			// With a second deployment: retried there when retryable.
			reg = bedrockRegistry(t, "num_retries: 1, routing_strategy: simple-shuffle", failing, good)
			for range 4 { // whichever deployment the shuffle takes first
				out, err := streamCall(t, reg)
				if tc.retried && err != nil {
					t.Fatalf("a retryable %s was not retried: %v", tc.typ, err)
				}
				if !tc.retried && err != nil && out.Attempts != 1 {
					t.Fatalf("a %s was retried (%d attempts)", tc.typ, out.Attempts)
				}
			}
		})
	}
	if calls.Load() == 0 {
		t.Fatal("the failing deployment was never called")
	}
}

// esEvent is one ConverseStream event message.
func esEvent(typ, payload string) []byte {
	return bedrock.AppendESMessage(nil, [][2]string{{":event-type", typ}, {":content-type", "application/json"}, {":message-type", "event"}}, []byte(payload))
}

// upstreamSending is a Bedrock runtime endpoint whose ConverseStream
// answer is body().
func upstreamSending(t *testing.T, body func() []byte) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
		_, _ = w.Write(body())
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// bedrockRegistry is a registry with one Bedrock deployment of model
// "nova" per endpoint (br-0, br-1, ...), with router settings rs.
func bedrockRegistry(t *testing.T, rs string, endpoints ...string) *upstream.Registry {
	t.Helper()
	cfg, err := config.Parse([]byte("router_settings: {"+rs+"}\n"), config.Options{Getenv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	for i, ep := range endpoints {
		cfg.Deployments = append(cfg.Deployments, &config.Deployment{ModelName: "nova", ID: fmt.Sprint("br-", i), Model: "bedrock/amazon.nova-lite-v1:0",
			Provider: "bedrock", UpstreamModel: "amazon.nova-lite-v1:0", Params: map[string]any{
				"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
				"aws_region_name": "us-east-1", "aws_bedrock_runtime_endpoint": ep}})
	}
	reg, err := upstream.NewRegistry(cfg, upstream.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	return reg
}

// streamCall makes one stream call for "nova" and ends its answer.
func streamCall(t *testing.T, reg *upstream.Registry) (*upstream.Response, error) {
	body := `{"model":"nova","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	i := strings.Index(body, `"nova"`)
	req := &upstream.ChatRequest{Body: []byte(body), ModelStart: i, ModelEnd: i + 6, Model: []byte("nova"), Stream: true, Cancel: &upstream.Cancel{}}
	out := upstream.AcquireResponse()
	t.Cleanup(func() { upstream.ReleaseResponse(out) })
	err := reg.Chat(reg.Lookup([]byte("nova")), req, out)
	return out, err
}
