package upstream

import "github.com/llmedge/llmedge/upstream/transport"

// Observer receives the reliability events of a Registry, for metrics.
// Methods are called on the request's goroutine, inline: they must be
// cheap, non-blocking and safe for concurrent use. Deployments and
// groups passed are the observed Registry's own.
type Observer interface {
	// Attempt: an upstream attempt on d is starting. retry is true for
	// every attempt of a call after its first.
	Attempt(d *Deployment, retry bool)
	// Fallback: the call moves from model group from to group to.
	Fallback(from, to *Group)
	// Cooldown: d was taken out of rotation for a while.
	Cooldown(d *Deployment)
}

// SetObserver makes o receive r's events (nil: none). Call it before r
// serves requests: it is not synchronised with calls in flight.
func (r *Registry) SetObserver(o Observer) { r.obs = o }

// observeAttempt, observeFallback and observeCooldown are the hooks the
// retry loop calls; each is a nil check when nobody observes.
func (r *Registry) observeAttempt(d *Deployment, retry bool) {
	if r.obs != nil {
		r.obs.Attempt(d, retry)
	}
}

func (r *Registry) observeFallback(from, to *Group) {
	if r.obs != nil {
		r.obs.Fallback(from, to)
	}
}

func (r *Registry) observeCooldown(d *Deployment) {
	if r.obs != nil {
		r.obs.Cooldown(d)
	}
}

// poolsFor returns the connection pools of a new Registry whose global
// pool settings are s: on a reload with unchanged settings, the previous
// Registry's (connections to hosts still in the config survive, pools
// are keyed by host and settings), else fresh ones.
func (o Options) poolsFor(s PoolSettings) *transport.Pools {
	if p := o.Previous; p != nil && p.net.Pools != nil && p.net.Pools.Settings().Key() == s.WithDefaults().Key() {
		return p.net.Pools
	}
	return transport.NewPools(s)
}

// cookieJarFor returns the cookie store of a new Registry: on a reload
// with the same cookie_store_path, the previous Registry's, so cookies
// not yet saved are kept; else one read from path.
func (o Options) cookieJarFor(path string) (*transport.CookieJar, error) {
	if p := o.Previous; p != nil && p.net.Cookies != nil && p.net.Cookies.Path() == path {
		return p.net.Cookies, nil
	}
	return transport.NewCookieJar(path)
}

// SharesCookies reports whether r and o use the same cookie store (a
// reload kept it); when not, the replaced Registry is Closed to save its
// cookies.
func (r *Registry) SharesCookies(o *Registry) bool { return r.net.Cookies == o.net.Cookies }
