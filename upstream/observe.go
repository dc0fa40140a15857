package upstream

import "time"

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

// Observed is what a call measured about itself, for metrics, access
// logs and the x-llmedge-*-duration headers. It is embedded in Response.
type Observed struct {
	// UpstreamWait is the time spent waiting on upstreams: connecting,
	// sending, waiting for response headers, and blocked reading
	// response bodies (for a stream, until it is fully relayed), over
	// every attempt.
	UpstreamWait time.Duration
	// HeadersAt is when the answering attempt's response headers
	// arrived (zero for in-process answers such as mock).
	HeadersAt time.Time
}

// UsageFromBody reads Usage from a non-stream answer's Body when its
// wire format did not (mock, Anthropic): metrics and access logs count
// the tokens of every answer. A no-op once Usage is known.
func (r *Response) UsageFromBody() {
	if !r.Usage.Reported && r.Stream == nil {
		r.Usage.observeBody(r.Body)
	}
}

// poolsFor returns the connection pools of a new Registry whose global
// pool settings are s: on a reload with unchanged settings, the previous
// Registry's (connections to hosts still in the config survive, pools
// are keyed by host and settings), else fresh ones.
func (o Options) poolsFor(s PoolSettings) *pools {
	if p := o.Previous; p != nil && p.pools != nil && p.pools.settings.key() == s.withDefaults().key() {
		return p.pools
	}
	return newPools(s)
}

// cookieJarFor returns the cookie store of a new Registry: on a reload
// with the same cookie_store_path, the previous Registry's, so cookies
// not yet saved are kept; else one read from path.
func (o Options) cookieJarFor(path string) (*cookieJar, error) {
	if p := o.Previous; p != nil && p.cookies != nil && p.cookies.path == path {
		return p.cookies, nil
	}
	return newCookieJar(path)
}

// SharesCookies reports whether r and o use the same cookie store (a
// reload kept it); when not, the replaced Registry is Closed to save its
// cookies.
func (r *Registry) SharesCookies(o *Registry) bool { return r.cookies == o.cookies }

// waited accounts for one round trip that started at start; on success
// its end is when the response headers arrived.
func (o *Observed) waited(start time.Time, err *error) {
	now := time.Now()
	o.UpstreamWait += now.Sub(start)
	if *err == nil {
		o.HeadersAt = now
	}
}
