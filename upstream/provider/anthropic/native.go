package anthropic

import (
	"bytes"
	"fmt"
	"github.com/llmedge/llmedge/upstream/provider/openai"
	"io"
	"sync"

	"github.com/llmedge/llmedge/internal/errbody"
	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/sse"
	"github.com/llmedge/llmedge/upstream/provider"
)

// anthropicNative passes a client's Anthropic Messages request through
// (Claude Code): the body with "model" rewritten, the client's
// anthropic-version/anthropic-beta, the deployment's key. A stream is
// relayed event by event, unchanged.
func anthropicNative(d *provider.Endpoint, req *provider.Request, model []byte, out *provider.Answer) *provider.Error {
	out.X.Release(&out.Resp)
	uri := d.URI
	if req.Anthropic.CountTokens {
		uri = d.Options.CountTokensURI
	}
	ureq := out.Request()
	SetHeaders(d, ureq, req, uri, req.Anthropic.Version, req.Anthropic.Beta)
	quoted := d.QuotedModel
	if d.Wildcard {
		quoted = openai.AppendWildcardModel(nil, d.Config.UpstreamModel, model)
	}
	if fixed, ok := provider.FitThinkingBody(req.Body, quoted); ok && !req.Anthropic.CountTokens {
		// A thinking budget below Anthropic's minimum, or max_tokens not
		// above it: the rare body rebuilt rather than refused.
		ureq.AppendBody(fixed)
	} else {
		// Appended, not SetBodyRaw over ureq.Body(): that would hand the
		// buffer back to fasthttp's pool and the next AppendBody would
		// start a fresh one, losing the body before the model.
		ureq.AppendBody(req.Body[:req.ModelStart])
		ureq.AppendBody(quoted)
		ureq.AppendBody(req.Body[req.ModelEnd:])
	}
	return RelayNative(d, req, out)
}

// RelayNative sends out.Req, a native Anthropic Messages request built
// by the caller (anthropic/, or Claude on Vertex AI), and leaves the
// answer as it came: a stream relayed event by event (its first event
// read, so a failure before it can be retried elsewhere), or the JSON
// message (or count_tokens document) in out.Body.
func RelayNative(d *provider.Endpoint, req *provider.Request, out *provider.Answer) *provider.Error {
	uresp, err := anthropicSend(d, req, out)
	if err != nil {
		return err
	}
	out.UpResp = uresp
	x := &out.X
	if req.Stream && !req.Anthropic.CountTokens && bytes.HasPrefix(uresp.Header.ContentType(), []byte("text/event-stream")) {
		ev, err := firstEvent(d, x, uresp, out)
		if err != nil {
			if len(ev.Data) > 0 && err.Code != "" && err.Code != "upstream_empty_stream" {
				// An error event: hand the client Anthropic's own words.
				err.Body = append([]byte(nil), bytes.TrimSpace(d.Scrub(ev.Data))...)
			}
			return err
		}
		s := nativeStreams.Get().(*nativeStream)
		*s = nativeStream{SSEEvents: provider.SSEEvents{X: x, SC: out.SC, First: ev}, d: d}
		if req.WantUsage {
			s.out = out
		}
		out.StartRelay(s, x)
		return nil
	}
	if e := out.ReadAnswer(d, uresp); e != nil {
		return e
	}
	if !req.Anthropic.CountTokens {
		out.Usage.ObserveBody(out.Body)
	}
	return nil
}

// nativeStream relays an Anthropic event stream unchanged. The stream
// ends where Anthropic's does: at message_stop (or EOF); there is no
// [DONE] in this format.
type nativeStream struct {
	provider.SSEEvents
	d *provider.Endpoint
	// out, when set, receives the usage of message_start/message_delta.
	out *provider.Answer
	// last is the event Next returned last (LastText).
	last sse.Event
}

var nativeStreams = sync.Pool{New: func() any { return new(nativeStream) }}

func (s *nativeStream) Release() {
	*s = nativeStream{}
	nativeStreams.Put(s)
}

func (s *nativeStream) Next() ([]byte, bool, error) {
	ev, err := s.NextEvent()
	if err == io.EOF {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	if s.out != nil {
		s.out.Usage.NoteAnthropic(ev.Data)
	}
	s.last = ev
	// At message_stop the answer is complete: what follows is at most
	// the end of the body, drained for a bounded time.
	return s.d.ScrubErrorEvent(&ev), string(eventType(ev)) == "message_stop", nil
}

// LastText implements provider.TextReporter: a text_delta's text.
func (s *nativeStream) LastText() []byte {
	if string(eventType(s.last)) != "content_block_delta" {
		return nil
	}
	typ, text := jsonx.Get2(jsonx.Get(s.last.Data, "delta"), "type", "text")
	if string(typ) != `"text_delta"` {
		return nil
	}
	return jsonx.LitVal(text)
}

func (s *nativeStream) Failure(dst []byte, err error) ([]byte, error) {
	msg, typ, _ := provider.MidStreamFailure(s.d, err, "mid-event")
	return errbody.AppendAnthropicEvent(dst, typ, msg), fmt.Errorf("%w: %s", err, msg)
}
