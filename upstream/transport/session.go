package transport

import (
	"net/url"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/valyala/fasthttp"
)

// maxRedirects is how many redirects a non-stream call follows (the
// browsers' and curl's customary bound is higher; an API that redirects
// more than 5 times is broken).
const maxRedirects = 5

// RedirectError is a redirect llmedge does not follow: from https to
// http (the request carries the client's prompt), or of a stream call.
// Another attempt would meet it again, so it is not retried.
type RedirectError struct{ msg string }

func (e *RedirectError) Error() string { return e.msg }

// Session is what the exchanges of one Registry share: the pools a
// redirect's host is reached through and the cookie store.
type Session struct {
	Pools   *Pools
	Cookies *CookieJar
}

// Send is one HTTP exchange of an attempt with the upstream session
// applied: the cookies stored for the host go out, the answer's
// Set-Cookie is kept, and for a non-stream call redirects are followed
// (at most 5, never from https to http, cookies applied at each hop).
// deadline bounds the answer's headers, and for a non-stream call the
// whole exchange, whose body reads each get readTimeout (0: none).
// secretHeaders are the configured headers that may carry credentials:
// like the credential headers, they are not sent to another host.
func (s *Session) Send(x *Exchange, ureq *fasthttp.Request, uresp *fasthttp.Response, deadline time.Time, stream bool, readTimeout time.Duration, secretHeaders []config.Header) error {
	if !stream {
		x.Deadline = deadline
		x.ReadTimeout = readTimeout
	}
	ureq.Header.SetCanonical(acceptEncodingKey, acceptIdentityValue) // encoding.go
	for hops := 0; ; hops++ {
		s.Cookies.Apply(ureq, x.Pool.client().IsTLS)
		if err := x.RoundTrip(ureq, uresp, deadline); err != nil {
			return err
		}
		status := uresp.StatusCode()
		if status == fasthttp.StatusProxyAuthRequired && x.Pool.forwardProxy() != "" {
			// The forward proxy's answer, not the upstream's.
			x.failed = true
			x.Release(uresp)
			return &ProxyError{Proxy: x.Pool.forwardProxy(), Status: status}
		}
		s.Cookies.Store(ureq, uresp)
		if hops >= maxRedirects || !isRedirect(status) {
			return nil
		}
		loc := uresp.Header.Peek("Location")
		if len(loc) == 0 {
			return nil
		}
		if follow, err := s.redirect(stream, secretHeaders, x, ureq, uresp, status, loc); !follow {
			return err
		}
	}
}

// redirect prepares x and ureq to follow the redirect of uresp to loc,
// or says why not (follow false, with the error to return, if any).
// Apart from send so that its URL values and exchange literal are not
// in send's frame, which is on the stack of every request's upstream
// call, deep in it (server/stack_test.go).
func (s *Session) redirect(stream bool, secretHeaders []config.Header, x *Exchange, ureq *fasthttp.Request, uresp *fasthttp.Response, status int, loc []byte) (follow bool, err error) {
	if stream {
		x.failed = true
		x.Release(uresp)
		return false, &RedirectError{"redirected a stream request to " + safeLocation(loc) + "; set api_base to the final URL"}
	}
	u := ureq.URI()
	if x.Pool.client().IsTLS {
		// A request built from a copied head has no scheme of its own
		// (Cookies.Apply).
		u.SetScheme("https")
	}
	base, err := url.Parse(string(u.FullURI()))
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
		x.Release(uresp)
		return false, &RedirectError{"refused a redirect from https to " + safeLocation(loc)}
	}
	// Finish this exchange so its connection can be reused.
	if _, err := x.ReadAll(nil, MaxErrorBody); err != nil {
		x.Release(uresp)
		return false, err
	}
	x.Release(uresp)
	uresp.Reset()
	if next.Host != base.Host {
		// Credentials are for the configured host only.
		ureq.Header.Del("Authorization")
		ureq.Header.Del("Api-Key")
		ureq.Header.Del("X-Api-Key")
		ureq.Header.Del("X-Amz-Security-Token")
		// extra_headers may hold keys too (x-supermemory-api-key).
		for _, h := range secretHeaders {
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
	// The same pool settings and egress; the proxy is chosen anew for
	// the new host (NO_PROXY).
	*x = Exchange{Pool: s.Pools.GetWith(DialAddr(next), next.Scheme == "https", x.Pool.settings()), Cancel: x.Cancel, Deadline: x.Deadline, ReadTimeout: x.ReadTimeout, Obs: x.Obs}
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

// DialAddr is the "host:port" a pool for u dials: u's host with its
// scheme's default port when it names none.
func DialAddr(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return u.Host + ":443"
	}
	return u.Host + ":80"
}
