package upstream

import (
	"net/url"
	"time"

	"github.com/valyala/fasthttp"
)

// maxRedirects is how many redirects a non-stream call follows (the
// browsers' and curl's customary bound is higher; an API that redirects
// more than 5 times is broken).
const maxRedirects = 5

// redirectError is a redirect llmedge does not follow: from https to
// http (the request carries the client's prompt), or of a stream call.
// Another attempt would meet it again, so it is not retried.
type redirectError struct{ msg string }

func (e *redirectError) Error() string { return e.msg }

// send is one HTTP exchange of an attempt with the upstream session
// applied: the cookies stored for the host go out, the answer's
// Set-Cookie is kept, and for a non-stream call redirects are followed
// (at most 5, never from https to http, cookies applied at each hop).
// deadline bounds the answer's headers, and for a non-stream call the
// whole exchange.
func (reg *Registry) send(d *Deployment, stream bool, x *exchange, ureq *fasthttp.Request, uresp *fasthttp.Response, deadline time.Time) error {
	if !stream {
		x.deadline = deadline
		x.readTimeout = d.readTimeout
	}
	ureq.Header.SetCanonical(acceptEncodingKey, acceptIdentityValue) // encoding.go
	for hops := 0; ; hops++ {
		reg.cookies.apply(ureq)
		if err := x.roundTrip(ureq, uresp, deadline); err != nil {
			return err
		}
		reg.cookies.store(ureq, uresp)
		status := uresp.StatusCode()
		if hops >= maxRedirects || !isRedirect(status) {
			return nil
		}
		loc := uresp.Header.Peek("Location")
		if len(loc) == 0 {
			return nil
		}
		if follow, err := reg.redirect(d, stream, x, ureq, uresp, status, loc); !follow {
			return err
		}
	}
}

// redirect prepares x and ureq to follow the redirect of uresp to loc,
// or says why not (follow false, with the error to return, if any).
// Apart from send so that its URL values and exchange literal are not
// in send's frame, which is on the stack of every request's upstream
// call, deep in it (server/stack_test.go).
func (reg *Registry) redirect(d *Deployment, stream bool, x *exchange, ureq *fasthttp.Request, uresp *fasthttp.Response, status int, loc []byte) (follow bool, err error) {
	if stream {
		x.failed = true
		x.release(uresp)
		return false, &redirectError{"redirected a stream request to " + safeLocation(loc) + "; set api_base to the final URL"}
	}
	base, err := url.Parse(string(ureq.URI().FullURI()))
	if err != nil {
		return false, nil
	}
	ref, err := url.Parse(string(loc))
	if err != nil {
		return false, nil
	}
	next := base.ResolveReference(ref)
	if next.Scheme != "http" && next.Scheme != "https" || next.Host == "" {
		return false, nil
	}
	if base.Scheme == "https" && next.Scheme == "http" {
		x.failed = true
		x.release(uresp)
		return false, &redirectError{"refused a redirect from https to " + safeLocation(loc)}
	}
	// Finish this exchange so its connection can be reused.
	if _, err := x.readAll(nil, maxErrorBody); err != nil {
		x.release(uresp)
		return false, err
	}
	x.release(uresp)
	uresp.Reset()
	if next.Host != base.Host {
		// Credentials are for the configured host only.
		ureq.Header.Del("Authorization")
		ureq.Header.Del("Api-Key")
		ureq.Header.Del("X-Api-Key")
		ureq.Header.Del("X-Amz-Security-Token")
		// extra_headers may hold keys too (x-supermemory-api-key).
		for _, h := range d.headers {
			ureq.Header.Del(h.Name)
		}
	}
	if status == fasthttp.StatusSeeOther {
		ureq.Header.SetMethod(fasthttp.MethodGet)
		ureq.ResetBody()
		ureq.Header.Del("Content-Type")
	}
	ureq.Header.DelAllCookies()
	ureq.SetRequestURI(next.String())
	ureq.Header.SetHost(next.Host)
	addr := next.Host
	if next.Port() == "" {
		if next.Scheme == "https" {
			addr += ":443"
		} else {
			addr += ":80"
		}
	}
	*x = exchange{pool: reg.pools.get(addr, next.Scheme == "https"), cancel: x.cancel, deadline: x.deadline, readTimeout: x.readTimeout, obs: x.obs}
	return true, nil
}

// safeLocation is a Location header fit for an error message: scheme,
// host and path only (a query may carry tokens), bounded.
func safeLocation(loc []byte) string {
	u, err := url.Parse(string(loc))
	if err != nil {
		return "an unparsable location"
	}
	s := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

func isRedirect(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// call runs one attempt's HTTP exchange for out.req with the
// deployment's timeouts: a transport failure becomes the client's error,
// and so does a non-2xx answer, through asErr (the provider's own error
// format). On success the answer's headers are in the returned response
// and its body is still unread in out.x.
func (reg *Registry) call(d *Deployment, req *ChatRequest, out *Response, asErr func(status int, body []byte, h *fasthttp.ResponseHeader) *Error) (*fasthttp.Response, *Error) {
	x := &out.x
	*x = exchange{pool: d.pool, cancel: req.Cancel, obs: &out.Observed, waitBare: d.slowAnswers()}
	limit := d.timeout
	if req.Stream {
		limit = d.streamTimeout
	}
	uresp := &out.resp
	if err := reg.send(d, req.Stream, x, &out.req, uresp, time.Now().Add(limit)); err != nil {
		return nil, transportError(d, err)
	}
	status := uresp.StatusCode()
	if status < 200 || status > 299 {
		body, err := x.readAll(nil, maxErrorBody)
		x.release(uresp)
		if err != nil && len(body) == 0 {
			return nil, transportError(d, err)
		}
		return nil, asErr(status, body, &uresp.Header)
	}
	return uresp, nil
}
