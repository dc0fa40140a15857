// Package bedrock is Amazon Bedrock's Converse and ConverseStream API:
// OpenAI chat requests translated to it and back (request.go,
// response.go, stream.go), signed with SigV4, streams read from AWS's
// binary event stream (eventstream.go). Anthropic Messages calls to
// Claude models pass through InvokeModel with Claude's native body
// (invoke.go). It implements the
// upstream/provider contract and must not know the router or the HTTP
// server.
package bedrock

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/bytedance/sonic"
	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/transport"
	"github.com/valyala/fasthttp"
)

// DefaultRegion is LiteLLM's region when none is configured.
const DefaultRegion = "us-west-2"

// Provider is Amazon Bedrock's Converse / ConverseStream API,
// translated to and from OpenAI chat (request.go,
// response.go, stream.go).
var Provider = provider.Descriptor{Routes: provider.RoutesChatOnly, Build: buildBedrock, Attempt: bedrockAttempt}

// bedrockEndpoint is a bedrock/ deployment's endpoint and credentials.
type bedrockEndpoint struct {
	// base is scheme://host[/prefix] of bedrock-runtime.
	base   string
	host   string
	region string
	// modelID is the Bedrock model id; modelPath the same path-escaped
	// (":" and "/" included).
	modelID   string
	modelPath string
	creds     aws.Credentials
	// bearer is a Bedrock API key (sent as Authorization: Bearer)
	// instead of SigV4 when no access key is configured.
	bearer string
	signer *v4.Signer
}

// buildBedrock sets up a bedrock/ deployment: Amazon Bedrock's Converse
// API (https://bedrock-runtime.{region}.amazonaws.com/model/{modelId}/converse
// and /converse-stream), requests signed with SigV4.
//
// Credentials: aws_access_key_id / aws_secret_access_key /
// aws_session_token in litellm_params, else AWS_ACCESS_KEY_ID /
// AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN; a Bedrock API key (api_key or
// AWS_BEARER_TOKEN_BEDROCK) when no access key is set. Region:
// aws_region_name, else AWS_REGION_NAME / AWS_REGION / AWS_DEFAULT_REGION.
// Endpoint override: aws_bedrock_runtime_endpoint or api_base.
func buildBedrock(d *provider.Endpoint, b *provider.BuildEnv) *config.Error {
	path, env := b.Path, b.Env
	cd := d.Config
	model := cd.UpstreamModel
	// LiteLLM route markers: bedrock/converse/{id}, bedrock/invoke/{id}.
	for _, p := range []string{"converse/", "invoke/", "converse_like/"} {
		model = strings.TrimPrefix(model, p)
	}
	be := &bedrockEndpoint{signer: v4.NewSigner(), modelID: model, modelPath: awsPathEscape(model)}
	be.region = provider.Param(cd, "aws_region_name")
	if be.region == "" {
		be.region = env("AWS_REGION_NAME", "AWS_REGION", "AWS_DEFAULT_REGION")
	}
	if be.region == "" {
		be.region = DefaultRegion
	}
	base := provider.Param(cd, "aws_bedrock_runtime_endpoint")
	errPath := path + ".aws_bedrock_runtime_endpoint"
	if base == "" {
		base, errPath = cd.APIBase, path+".api_base"
	}
	fromEnv := false
	if base == "" {
		base, errPath, fromEnv = env("AWS_BEDROCK_RUNTIME_ENDPOINT"), path+".aws_bedrock_runtime_endpoint", true
	}
	if base == "" {
		base, errPath, fromEnv = "https://bedrock-runtime."+be.region+".amazonaws.com", path+".aws_region_name", false
	}
	be.base = strings.TrimRight(base, "/")
	if e := b.SetEndpoint(d, be.base+"/model/"+be.modelPath+"/converse", errPath); e != nil {
		if !fromEnv {
			return e
		}
		// A bad environment variable must not stop the other
		// deployments from starting.
		b.Unavailable(d, "invalid_endpoint", "AWS_BEDROCK_RUNTIME_ENDPOINT is not an http:// or https:// URL")
		return nil
	}
	be.host = d.Host
	d.Ext = be
	if !d.Wildcard && isClaude(model) {
		// Native /v1/messages calls go to InvokeModel (invoke.go).
		b.Provider = &claudeProvider
	}
	d.QuotedModel = jsonx.AppendString(nil, model)
	if d.Unavailable != "" {
		return nil
	}
	be.creds = aws.Credentials{
		AccessKeyID:     provider.Param(cd, "aws_access_key_id"),
		SecretAccessKey: provider.Param(cd, "aws_secret_access_key"),
		SessionToken:    provider.Param(cd, "aws_session_token"),
		Source:          "llmedge config",
	}
	if be.creds.AccessKeyID == "" && be.creds.SecretAccessKey == "" {
		if be.bearer = cd.APIKey; be.bearer == "" {
			be.creds.AccessKeyID = env("AWS_ACCESS_KEY_ID")
			be.creds.SecretAccessKey = env("AWS_SECRET_ACCESS_KEY")
			be.creds.SessionToken = env("AWS_SESSION_TOKEN")
			be.creds.Source = "environment"
		}
	}
	if be.bearer == "" && be.creds.AccessKeyID == "" && be.creds.SecretAccessKey == "" {
		be.bearer = env("AWS_BEARER_TOKEN_BEDROCK")
	}
	switch {
	case be.bearer != "":
		d.Key = be.bearer
	case be.creds.AccessKeyID != "" && be.creds.SecretAccessKey != "":
		d.Key, d.SessionToken = be.creds.SecretAccessKey, be.creds.SessionToken
	case provider.Param(cd, "aws_role_name") != "" || provider.Param(cd, "aws_profile_name") != "" || provider.Param(cd, "aws_web_identity_token") != "":
		b.Unsupported(d, "AWS role assumption and profiles (aws_role_name, aws_profile_name, aws_web_identity_token) are not supported by llmedge; set aws_access_key_id and aws_secret_access_key")
	default:
		b.Unavailable(d, "missing_environment_variable", "no AWS credentials: set aws_access_key_id and aws_secret_access_key (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	}
	return nil
}

// awsPathEscape escapes a path segment the way AWS SDKs do for Bedrock
// model ids: everything but unreserved characters, so "v1:0" becomes
// "v1%3A0" and an ARN's "/" becomes "%2F".
func awsPathEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// sign adds SigV4 headers (Authorization, X-Amz-Date, and
// X-Amz-Security-Token for temporary credentials) to req, covering
// Host, Content-Type and the body hash. The AWS SDK's signer builds the
// canonical request; it needs a net/http request, so one is built with
// exactly the headers fasthttp will send.
func (be *bedrockEndpoint) sign(req *fasthttp.Request, rawPath string, body []byte, now time.Time) error {
	if be.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+be.bearer)
		return nil
	}
	sum := sha256.Sum256(body)
	u, err := url.Parse(be.base)
	if err != nil {
		return err
	}
	u.RawPath = u.Path + rawPath
	u.Path, _ = url.PathUnescape(u.RawPath)
	hr := &http.Request{Method: http.MethodPost, URL: u, Host: be.host, Header: http.Header{"Content-Type": {"application/json"}}}
	if err := be.signer.SignHTTP(context.Background(), be.creds, hr, hex.EncodeToString(sum[:]), "bedrock", be.region, now); err != nil {
		return err
	}
	for _, k := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
		if v := hr.Header.Get(k); v != "" {
			req.Header.Set(k, v)
		}
	}
	return nil
}

// bedrockAttempt sends one OpenAI chat request to Bedrock's Converse (or
// ConverseStream) API and translates the answer.
func bedrockAttempt(d *provider.Endpoint, req *provider.Request, model []byte, out *provider.Answer) *provider.Error {
	be := d.Ext.(*bedrockEndpoint)
	modelID, modelPath := be.modelID, be.modelPath
	if d.Wildcard {
		modelID = string(appendWildcardID(nil, d.Config.UpstreamModel, model))
		modelPath = awsPathEscape(modelID)
	}
	body, e := bedrockRequestBody(req.Body, modelID, d.Options.DropParams)
	if e != nil {
		return e
	}
	if len(req.AnthropicBeta) > 0 && isClaude(modelID) {
		body = addConverseBetas(body, req.AnthropicBeta)
	}
	op := "/converse"
	if req.Stream {
		op = "/converse-stream"
	}
	uresp, e := send(d, req, out, modelPath, op, body, req.Stream)
	if e != nil {
		return e
	}
	x := &out.X
	created := time.Now().Unix()
	if req.Stream {
		x.ReadTimeout = d.StreamTimeout
		s := bedrockStreams.Get().(*bedrockStream)
		s.d, s.x, s.resp, s.dec, s.id, s.created = d, x, uresp, newESDecoder(x, 16<<10), chatID(), created
		s.model, s.includeUsage, s.usage = append(s.model[:0], req.Model...), req.IncludeUsage, &out.Usage
		msg, err := s.dec.Next()
		if err != nil {
			s.Release()
			return provider.FirstEventFailed(d, x, uresp, err)
		}
		if e := streamException(d, msg); e != nil {
			s.Release()
			x.MarkFailed()
			x.Release(uresp)
			return e
		}
		s.first = msg
		out.StartRelay(s, x)
		return nil
	}
	raw, err := x.ReadAll(nil, transport.MaxResponseBody)
	x.Release(uresp)
	if err != nil {
		return provider.TransportError(d, err)
	}
	b, err := bedrockResponseBody(out.Body[:0], raw, req.Model, created)
	if err != nil {
		return &provider.Error{Status: 502, Type: "api_error", Code: "upstream_bad_response", Retryable: true,
			Message: fmt.Sprintf("upstream deployment %s answered with a body that is not a Converse response", d.ID),
			Detail:  provider.FailureDetail(d, err)}
	}
	out.Body = b
	out.StatusCode = 200
	out.ContentType = append(out.ContentType[:0], "application/json"...)
	return nil
}

// send signs and sends one request to bedrock-runtime's
// /model/{modelPath}{op} and returns the response once its headers are
// in, or Bedrock's error mapped for a non-2xx answer. An event-stream
// answer is asked for when stream is set.
func send(d *provider.Endpoint, req *provider.Request, out *provider.Answer, modelPath, op string, body []byte, stream bool) (*fasthttp.Response, *provider.Error) {
	be := d.Ext.(*bedrockEndpoint)
	out.X.Release(&out.Resp)
	ureq := out.Request()
	ureq.Reset()
	ureq.Header.SetMethod(fasthttp.MethodPost)
	rawPath := "/model/" + modelPath + op
	ureq.SetRequestURI(be.base + rawPath)
	// Send the path exactly as signed ("v1%3A0", not "v1:0").
	ureq.URI().DisablePathNormalizing = true
	ureq.Header.SetContentType("application/json")
	if stream {
		ureq.Header.Set("Accept", "application/vnd.amazon.eventstream")
	} else {
		ureq.Header.Set("Accept", "application/json")
	}
	ureq.SetBodyRaw(body)
	if err := be.sign(ureq, rawPath, body, time.Now()); err != nil {
		return nil, &provider.Error{Status: 500, Type: "api_error", Code: "signing_failed", Message: fmt.Sprintf("deployment %s: SigV4 signing failed: %v", d.ID, err)}
	}
	for _, h := range d.Headers {
		ureq.Header.Set(h.Name, h.Value)
	}
	if len(req.RequestID) > 0 {
		provider.SetRequestID(&ureq.Header, req.RequestID)
	}
	req.SetTraceHeaders(&ureq.Header)
	return provider.Call(d, req, out, func(status int, body []byte, h *fasthttp.ResponseHeader) *provider.Error {
		return bedrockError(d, status, h.Peek("X-Amzn-Errortype"), body, h.Peek("Retry-After"))
	})
}

// appendWildcardID is the upstream model id of a wildcard deployment.
func appendWildcardID(dst []byte, upstreamModel string, part []byte) []byte {
	return append(append(dst, upstreamModel[:len(upstreamModel)-1]...), part...)
}

// bedrockError maps a Bedrock error answer ({"message": "..."} with an
// X-Amzn-ErrorType header) to an OpenAI error.
func bedrockError(d *provider.Endpoint, status int, errType, body, retryAfter []byte) *provider.Error {
	body = d.Scrub(body)
	var m struct {
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	_ = sonic.Unmarshal(body, &m)
	msg := m.Message
	if msg == "" {
		msg = m.Message2
	}
	if msg == "" {
		msg = string(bytes.TrimSpace(body))
		if len(msg) > 512 {
			msg = msg[:512] + "..."
		}
	}
	code := string(errType)
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	e := &provider.Error{Status: status, Type: provider.ErrorType(status), Code: code, Retryable: provider.RetryableStatus(status),
		Message: fmt.Sprintf("bedrock (deployment %s): %s", d.ID, msg)}
	if code == "" {
		e.Code = "upstream_error"
	}
	if len(retryAfter) > 0 {
		e.RetryAfter = append([]byte(nil), retryAfter...)
	}
	return e
}

// exceptionStatus maps ConverseStream exception types to HTTP statuses.
func exceptionStatus(typ string) int {
	switch strings.ToLower(typ) {
	case "validationexception":
		return 400
	case "accessdeniedexception":
		return 403
	case "resourcenotfoundexception":
		return 404
	case "modeltimeoutexception":
		return 408
	case "throttlingexception":
		return 429
	case "modelstreamerrorexception", "modelerrorexception":
		return 424
	case "serviceunavailableexception":
		return 503
	}
	return 500
}

// streamException returns the error an exception or error message of a
// ConverseStream carries (nil for an ordinary event).
func streamException(d *provider.Endpoint, m *esMessage) *provider.Error {
	switch string(m.Header(":message-type")) {
	case "exception":
		typ := string(m.Header(":exception-type"))
		status := exceptionStatus(typ)
		e := bedrockError(d, status, []byte(typ), m.Payload, nil)
		e.Retryable = provider.RetryableStatus(status) || status == 424
		return e
	case "error":
		msg := string(m.Header(":error-message"))
		return &provider.Error{Status: 502, Type: "api_error", Code: string(m.Header(":error-code")), Retryable: true,
			Message: fmt.Sprintf("bedrock (deployment %s): %s", d.ID, d.Scrub([]byte(msg)))}
	}
	return nil
}
