package upstream

import (
	"time"

	"github.com/llmedge/llmedge/upstream/transport"
	"github.com/valyala/fasthttp"
)

// call runs one attempt's HTTP exchange for out.req with the
// deployment's timeouts: a transport failure becomes the client's error,
// and so does a non-2xx answer, through asErr (the provider's own error
// format). On success the answer's headers are in the returned response
// and its body is still unread in out.x.
func (reg *Registry) call(d *Deployment, req *ChatRequest, out *Response, asErr func(status int, body []byte, h *fasthttp.ResponseHeader) *Error) (*fasthttp.Response, *Error) {
	x := &out.x
	*x = transport.Exchange{Pool: d.pool, Cancel: req.Cancel, Obs: &out.Observed, WaitBare: d.slowAnswers()}
	limit := d.timeout
	if req.Stream {
		limit = d.streamTimeout
	}
	uresp := &out.resp
	if err := reg.net.Send(x, &out.req, uresp, time.Now().Add(limit), req.Stream, d.readTimeout, d.headers); err != nil {
		return nil, transportError(d, err)
	}
	status := uresp.StatusCode()
	if status < 200 || status > 299 {
		body, err := x.ReadAll(nil, transport.MaxErrorBody)
		x.Release(uresp)
		if err != nil && len(body) == 0 {
			return nil, transportError(d, err)
		}
		return nil, asErr(status, body, &uresp.Header)
	}
	return uresp, nil
}

// slowAnswerTTFB is the average time to first byte from which a
// deployment's calls wait for the answer without a read buffer: an LLM
// call waits seconds for its first byte, and holding the 8 KiB header
// reader all that time is what 10,000 calls in flight would pay (80 MB);
// one more read syscall per call is nothing beside such a wait. An
// upstream that answers faster (a local server, a cache, the bench's
// fake) keeps the single read.
const slowAnswerTTFB = 5 * time.Millisecond

// slowAnswers reports whether d's calls wait bare: its average time to
// first byte is past slowAnswerTTFB, or not known yet.
func (d *Deployment) slowAnswers() bool {
	l := d.health.latency.Load()
	return l == 0 || l > int64(slowAnswerTTFB)
}

// configured). Call it on shutdown.
func (r *Registry) Close() error { return r.net.Cookies.Save() }
