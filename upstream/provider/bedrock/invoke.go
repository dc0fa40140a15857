package bedrock

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/llmedge/llmedge/internal/errbody"
	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/provider/anthropic"
	"github.com/llmedge/llmedge/upstream/transport"
)

// Claude on Bedrock for Anthropic clients (Claude Code on /v1/messages):
// the client's Messages body goes to InvokeModel
// (/model/{id}/invoke) or InvokeModelWithResponseStream
// (/model/{id}/invoke-with-response-stream) as it came, with "model"
// and "stream" taken out (the path names both), Bedrock's
// anthropic_version put in and the betas Bedrock knows as the
// anthropic_beta array, so thinking signatures, server tools and
// cache_control arrive intact. OpenAI chat calls on the same
// deployment still use Converse (bedrock.go).

// bedrockAnthropicVersion is the anthropic_version InvokeModel requires
// in a Claude body (Bedrock's "Anthropic Claude Messages API" page).
const bedrockAnthropicVersion = "bedrock-2023-05-31"

// claudeProvider is a bedrock/ deployment of an Anthropic Claude model:
// Converse for chat, InvokeModel for native /v1/messages calls.
// buildBedrock switches Claude deployments to it (after building, so
// it needs no Build of its own).
var claudeProvider = provider.Descriptor{Routes: provider.RoutesChatOnly, AnthropicMessages: true, Attempt: claudeAttempt}

// isClaude reports whether a Bedrock model id (foundation model,
// cross-region profile "us.anthropic.…", or an ARN naming one) is an
// Anthropic Claude model.
func isClaude(modelID string) bool {
	return strings.Contains(strings.ToLower(modelID), "anthropic.claude")
}

// bedrockBetas are the anthropic-beta values Bedrock accepts for Claude
// (LiteLLM's anthropic_beta_headers_config.json "bedrock" entry, with
// the Bedrock whitelist of its beta_headers_config.py); the client's
// others are dropped, since Bedrock answers 400 to a beta it does not
// know. advanced-tool-use is Bedrock's tool-search-tool.
var bedrockBetas = anthropic.Betas{
	"advanced-tool-use-2025-11-20":              "tool-search-tool-2025-10-19",
	"tool-search-tool-2025-10-19":               "tool-search-tool-2025-10-19",
	"tool-examples-2025-10-29":                  "tool-examples-2025-10-29",
	"compact-2026-01-12":                        "compact-2026-01-12",
	"computer-use-2024-10-22":                   "computer-use-2024-10-22",
	"computer-use-2025-01-24":                   "computer-use-2025-01-24",
	"computer-use-2025-11-24":                   "computer-use-2025-11-24",
	"context-1m-2025-08-07":                     "context-1m-2025-08-07",
	"context-management-2025-06-27":             "context-management-2025-06-27",
	"dangerous-tool-use-2026-09-03":             "dangerous-tool-use-2026-09-03",
	"dev-full-thinking-2025-05-14":              "dev-full-thinking-2025-05-14",
	"effort-2025-11-24":                         "effort-2025-11-24",
	"fine-grained-tool-streaming-2025-05-14":    "fine-grained-tool-streaming-2025-05-14",
	"interleaved-thinking-2025-05-14":           "interleaved-thinking-2025-05-14",
	"mid-conversation-output-config-2026-07-01": "mid-conversation-output-config-2026-07-01",
	"mid-conversation-tool-changes-2026-07-01":  "mid-conversation-tool-changes-2026-07-01",
	"output-128k-2025-02-19":                    "output-128k-2025-02-19",
	"thinking-binding-controls-2026-08-01":      "thinking-binding-controls-2026-08-01",
	"thinking-display-updates-2026-08-18":       "thinking-display-updates-2026-08-18",
	"token-efficient-tools-2025-02-19":          "token-efficient-tools-2025-02-19",
}

// invokeDrop are the client's body members InvokeModel refuses
// ("extraneous key") or that llmedge sets itself.
var invokeDrop = []string{"model", "stream", "anthropic_version", "anthropic_beta"}

var invokeVersionMember = []byte(`"anthropic_version":"` + bedrockAnthropicVersion + `"`)

// claudeAttempt serves one attempt on a Claude deployment: native
// Messages calls through InvokeModel, the rest through Converse.
func claudeAttempt(d *provider.Endpoint, req *provider.Request, model []byte, out *provider.Answer) *provider.Error {
	if req.Anthropic == nil {
		return bedrockAttempt(d, req, model, out)
	}
	be := d.Ext.(*bedrockEndpoint)
	body, e := invokeBody(req)
	if e != nil {
		return e
	}
	if req.Anthropic.CountTokens {
		return countTokens(d, req, out, body)
	}
	op := "/invoke"
	if req.Stream {
		op = "/invoke-with-response-stream"
	}
	uresp, e := send(d, req, out, be.modelPath, op, body, req.Stream)
	if e != nil {
		return e
	}
	out.UpResp = uresp
	x := &out.X
	if !req.Stream {
		if e := out.ReadAnswer(d, uresp); e != nil {
			return e
		}
		out.Usage.ObserveBody(out.Body)
		return nil
	}
	x.ReadTimeout = d.StreamTimeout
	s := invokeStreams.Get().(*invokeStream)
	s.d, s.dec = d, newESDecoder(x, 16<<10)
	if req.WantUsage {
		s.usage = &out.Usage
	}
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
	if err := s.translate(msg); err != nil {
		s.Release()
		return provider.FirstEventFailed(d, x, uresp, err)
	}
	s.pending = true
	out.StartRelay(s, x)
	return nil
}

// invokeBody is the InvokeModel body of a client's Messages request.
func invokeBody(req *provider.Request) ([]byte, *provider.Error) {
	add := [][]byte{invokeVersionMember}
	if betas, ok := bedrockBetas.AppendJSON([]byte(`"anthropic_beta":`), req.Anthropic.Beta); ok {
		add = append(add, betas)
	}
	if req.Anthropic.CountTokens && jsonx.Get(req.Body, "max_tokens") == nil {
		// count_tokens bodies have no max_tokens; InvokeModel's
		// Claude body requires one (it does not change the count).
		add = append(add, []byte(`"max_tokens":1`))
	}
	drop := invokeDrop
	if !req.Anthropic.CountTokens {
		drop, add = anthropic.FitNativeThinking(req.Body, drop, add)
	}
	body, ok := anthropic.NativeBody(make([]byte, 0, len(req.Body)+64), req.Body, drop, add...)
	if !ok {
		return nil, &provider.Error{Status: 400, Type: "invalid_request_error", Code: "invalid_request", Message: "request body is not a JSON object"}
	}
	return body, nil
}

// countTokens asks Bedrock's CountTokens (/model/{id}/count-tokens)
// for the InvokeModel body and answers Anthropic's count_tokens
// document.
func countTokens(d *provider.Endpoint, req *provider.Request, out *provider.Answer, body []byte) *provider.Error {
	be := d.Ext.(*bedrockEndpoint)
	enc := make([]byte, 0, 40+base64.StdEncoding.EncodedLen(len(body)))
	enc = append(enc, `{"input":{"invokeModel":{"body":"`...)
	enc = base64.StdEncoding.AppendEncode(enc, body)
	enc = append(enc, `"}}}`...)
	uresp, e := send(d, req, out, awsPathEscape(countTokensModel(be.modelID)), "/count-tokens", enc, false)
	if e != nil {
		return e
	}
	raw, err := out.X.ReadAll(out.Raw[:0], transport.MaxResponseBody)
	out.Raw = raw
	out.X.Release(uresp)
	if err != nil {
		return provider.TransportError(d, err)
	}
	n := jsonx.Get(raw, "inputTokens")
	if _, perr := strconv.Atoi(string(n)); perr != nil {
		return &provider.Error{Status: 502, Type: "api_error", Code: "upstream_bad_response", Retryable: true,
			Message: fmt.Sprintf("upstream deployment %s answered count-tokens without inputTokens", d.ID)}
	}
	out.Body = append(append(append(out.Body[:0], `{"input_tokens":`...), n...), '}')
	out.StatusCode = 200
	out.ContentType = append(out.ContentType[:0], "application/json"...)
	return nil
}

// countTokensModel is the model id CountTokens takes: the foundation
// model's. It refuses cross-region inference profile ids
// ("us.anthropic.claude-…"), so their region prefix is cut (as LiteLLM
// does); ARNs are left as they are.
func countTokensModel(id string) string {
	i := strings.Index(id, "anthropic.")
	if i <= 0 || strings.ContainsAny(id[:i], ":/") {
		return id
	}
	return id[i:]
}

// invokeStream relays an InvokeModelWithResponseStream answer as
// Anthropic's server-sent events: each event stream "chunk" carries
// one Anthropic event, base64-encoded in {"bytes": …}, written out as
// "event: {type}\ndata: {json}". The stream ends at the end of the
// body, after message_stop.
type invokeStream struct {
	d     *provider.Endpoint
	dec   *esDecoder
	usage *provider.Usage
	// raw is the decoded event, buf the client's bytes.
	raw, buf []byte
	// pending: buf holds the first event, not yet handed out.
	pending  bool
	finished bool
	// text is the last event's text_delta literal (LastText).
	text []byte
}

var invokeStreams = sync.Pool{New: func() any { return new(invokeStream) }}

func (s *invokeStream) Release() {
	*s = invokeStream{raw: s.raw[:0], buf: s.buf[:0]}
	if cap(s.raw) > 64<<10 || cap(s.buf) > 64<<10 {
		s.raw, s.buf = nil, nil
	}
	invokeStreams.Put(s)
}

func (s *invokeStream) Next() ([]byte, bool, error) {
	if s.pending {
		s.pending = false
		return s.buf, false, nil
	}
	msg, err := s.dec.Next()
	if err == io.EOF {
		if !s.finished {
			return nil, false, &provider.Error{Status: 502, Type: "api_error", Code: "upstream_stream_error",
				Message: fmt.Sprintf("upstream deployment %s closed the stream before message_stop", s.d.ID)}
		}
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	if e := streamException(s.d, msg); e != nil {
		return nil, false, e
	}
	if err := s.translate(msg); err != nil {
		return nil, false, err
	}
	return s.buf, false, nil
}

// translate decodes one chunk into s.buf as a server-sent event.
func (s *invokeStream) translate(m *esMessage) error {
	s.buf, s.text = s.buf[:0], nil
	if string(m.Header(":event-type")) != "chunk" {
		return nil
	}
	b64 := jsonx.Str(m.Payload, "bytes")
	n := base64.StdEncoding.DecodedLen(len(b64))
	if cap(s.raw) < n {
		s.raw = make([]byte, n)
	}
	k, err := base64.StdEncoding.Decode(s.raw[:n], b64)
	if err != nil {
		return fmt.Errorf("%w: chunk bytes are not base64", errEventStream)
	}
	raw := s.raw[:k]
	typ := jsonx.Str(raw, "type")
	if len(typ) == 0 {
		return fmt.Errorf("%w: chunk without an Anthropic event", errEventStream)
	}
	switch string(typ) {
	case "message_stop":
		s.finished = true
	case "content_block_delta":
		if dt, text := jsonx.Get2(jsonx.Get(raw, "delta"), "type", "text"); string(dt) == `"text_delta"` {
			s.text = jsonx.LitVal(text)
		}
	}
	if s.usage != nil {
		s.usage.NoteAnthropic(raw)
	}
	b := append(s.buf, "event: "...)
	b = append(append(b, typ...), "\ndata: "...)
	s.buf = append(append(b, raw...), "\n\n"...)
	return nil
}

func (s *invokeStream) Buffered() bool { return s.dec.Buffered() }

// LastText implements provider.TextReporter.
func (s *invokeStream) LastText() []byte { return s.text }

// Drain has nothing to read: the stream ends at the end of its body.
func (s *invokeStream) Drain() {}

// Failure ends the client's stream with Anthropic's error event.
func (s *invokeStream) Failure(dst []byte, err error) ([]byte, error) {
	var ue *provider.Error
	if errors.As(err, &ue) {
		return errbody.AppendAnthropicEvent(dst, errbody.AnthropicType(ue.Status), ue.Message), ue
	}
	if errors.Is(err, errEventStream) {
		err = fmt.Errorf("%w from bedrock", err)
	}
	msg, typ, _ := provider.MidStreamFailure(s.d, err, "mid-event")
	return errbody.AppendAnthropicEvent(dst, typ, msg), fmt.Errorf("%w: %s", err, msg)
}

var _ provider.Translator = (*invokeStream)(nil)
