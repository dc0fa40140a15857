package upstream

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	"github.com/llmedge/llmedge/internal/errbody"
)

// anthropicNative passes a client's Anthropic Messages request through
// (Claude Code): the body with "model" rewritten, the client's
// anthropic-version/anthropic-beta, the deployment's key. A stream is
// relayed event by event, unchanged.
func (reg *Registry) anthropicNative(d *Deployment, g *Group, req *ChatRequest, out *Response) *Error {
	out.x.Release(&out.resp)
	uri := d.uri
	if req.Anthropic.CountTokens {
		uri = d.ext.countTokensURI
	}
	ureq := &out.req
	d.anthropicHeaders(ureq, req, uri, req.Anthropic.Version, req.Anthropic.Beta)
	ureq.AppendBody(req.Body[:req.ModelStart])
	if d.wildcard {
		// Appended, not SetBodyRaw over ureq.Body(): that would hand the
		// buffer back to fasthttp's pool and the next AppendBody would
		// start a fresh one, losing the body before the model.
		ureq.AppendBody(appendWildcardModel(nil, d.Config.UpstreamModel, g.wildcardPart(req.Model)))
	} else {
		ureq.AppendBody(d.quotedModel)
	}
	ureq.AppendBody(req.Body[req.ModelEnd:])
	uresp, err := reg.anthropicSend(d, req, out)
	if err != nil {
		return err
	}
	out.upResp = uresp
	x := &out.x
	if req.Stream && !req.Anthropic.CountTokens && bytes.HasPrefix(uresp.Header.ContentType(), []byte("text/event-stream")) {
		ev, err := firstEvent(d, x, uresp, out)
		if err != nil {
			if len(ev.Data) > 0 && err.Code != "" && err.Code != "upstream_empty_stream" {
				// An error event: hand the client Anthropic's own words.
				err.Body = append([]byte(nil), bytes.TrimSpace(d.scrub(ev.Data))...)
			}
			return err
		}
		s := nativeStreams.Get().(*nativeStream)
		*s = nativeStream{sseEvents: sseEvents{x: x, sc: out.sc, first: ev}, d: d}
		if req.WantUsage {
			s.out = out
		}
		out.startRelay(s, x)
		return nil
	}
	if e := out.readAnswer(d, uresp); e != nil {
		return e
	}
	if !req.Anthropic.CountTokens {
		out.Usage.observeBody(out.Body)
	}
	return nil
}

// VisitAnthropicHeaders calls f for the upstream headers relayed on the
// native Anthropic route: anthropic-ratelimit-*, request-id, retry-after.
func (r *Response) VisitAnthropicHeaders(f func(k, v []byte)) {
	if r.upResp == nil {
		return
	}
	for k, v := range r.upResp.Header.All() {
		if (len(k) > 20 && bytes.EqualFold(k[:20], []byte("anthropic-ratelimit-"))) ||
			bytes.EqualFold(k, []byte("request-id")) || bytes.EqualFold(k, []byte("retry-after")) {
			f(k, v)
		}
	}
}

// nativeStream relays an Anthropic event stream unchanged. The stream
// ends where Anthropic's does: at message_stop (or EOF); there is no
// [DONE] in this format.
type nativeStream struct {
	sseEvents
	d *Deployment
	// out, when set, receives the usage of message_start/message_delta.
	out *Response
}

var nativeStreams = sync.Pool{New: func() any { return new(nativeStream) }}

func (s *nativeStream) release() {
	*s = nativeStream{}
	nativeStreams.Put(s)
}

func (s *nativeStream) next() ([]byte, bool, error) {
	ev, err := s.nextEvent()
	if err == io.EOF {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	if s.out != nil {
		s.out.Usage.noteAnthropic(ev.Data)
	}
	// At message_stop the answer is complete: what follows is at most
	// the end of the body, drained for a bounded time.
	return s.d.scrubErrorEvent(&ev), string(eventType(ev)) == "message_stop", nil
}

func (s *nativeStream) failure(dst []byte, err error) ([]byte, error) {
	msg, typ, _ := midStreamFailure(s.d, err, "mid-event")
	return errbody.AppendAnthropicEvent(dst, typ, msg), fmt.Errorf("%w: %s", err, msg)
}
