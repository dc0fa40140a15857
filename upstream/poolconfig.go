package upstream

import (
	"cmp"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/transport"
)

// poolWithConfig lays connection_pool settings (router_settings' for every
// upstream host, litellm_params' for one deployment) over s; a zero
// field keeps s's value. Config checked the values; defaults are
// PoolSettings' (see there for why).
func poolWithConfig(s PoolSettings, c *config.ConnectionPool) PoolSettings {
	if c == nil {
		return s
	}
	s.MaxConns = cmp.Or(c.MaxConnections, s.MaxConns)
	s.MaxConnWait = cmp.Or(c.MaxConnectionWait, s.MaxConnWait)
	s.IdleTimeout = cmp.Or(c.IdleTimeout, s.IdleTimeout)
	s.DialTimeout = cmp.Or(c.ConnectTimeout, s.DialTimeout)
	s.WriteTimeout = cmp.Or(c.WriteTimeout, s.WriteTimeout)
	s.ReadTimeout = cmp.Or(c.ReadTimeout, s.ReadTimeout)
	return s
}

// deploymentPool returns the pool for d's host with d's settings.
func (r *Registry) deploymentPool(cd *config.Deployment, addr string, tls bool) (transport.Pool, time.Duration) {
	s := poolWithConfig(r.net.Pools.Settings(), cd.ConnectionPool).WithDefaults()
	if cd.Egress != nil {
		s.Egress, _ = r.egress.build(cd.Egress, "") // checked by build
	}
	return r.net.Pools.GetWith(addr, tls, s), s.ReadTimeout
}
