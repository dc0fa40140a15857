package provider

import (
	"time"

	"github.com/llmedge/llmedge/upstream/transport"
	"github.com/valyala/fasthttp"
)

// Call runs one attempt's HTTP exchange for out.Req with the
// deployment's timeouts: a transport failure becomes the client's error,
// and so does a non-2xx answer, through asErr (the provider's own error
// format) unless it is a Cloudflare block page (blockpage.go). On success the answer's headers are in the returned response
// and its body is still unread in out.X.
func Call(d *Endpoint, req *Request, out *Answer, asErr func(status int, body []byte, h *fasthttp.ResponseHeader) *Error) (*fasthttp.Response, *Error) {
	x := &out.X
	*x = transport.Exchange{Pool: d.Pool, Cancel: req.Cancel, Obs: &out.Observed, WaitBare: out.SlowUpstream}
	limit := d.Timeout
	if req.Stream {
		limit = d.StreamTimeout
	}
	uresp := &out.Resp
	start := req.AttemptStart
	if start.IsZero() {
		start = time.Now()
	}
	if err := d.Net.Send(x, out.Request(), uresp, start.Add(limit), req.Stream, d.ReadTimeout, d.Headers); err != nil {
		return nil, TransportError(d, err)
	}
	status := uresp.StatusCode()
	if status < 200 || status > 299 {
		body, err := x.ReadAll(nil, transport.MaxErrorBody)
		x.Release(uresp)
		if err != nil && len(body) == 0 {
			return nil, TransportError(d, err)
		}
		if e := CloudflareBlock(d, status, body, &uresp.Header); e != nil {
			return nil, e
		}
		return nil, asErr(status, body, &uresp.Header)
	}
	return uresp, nil
}
