package upstream

import (
	"cmp"
	"fmt"
	"time"

	"github.com/llmedge/llmedge/config"
)

// withConfig lays connection_pool settings (router_settings' for every
// upstream host, litellm_params' for one deployment) over s; a zero
// field keeps s's value. Config checked the values; defaults are
// PoolSettings' (see there for why).
func (s PoolSettings) withConfig(c *config.ConnectionPool) PoolSettings {
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

// key identifies settings for pool sharing (Dial is per Registry).
func (s PoolSettings) key() string {
	return fmt.Sprintf("%d|%s|%s|%s|%s|%d", s.MaxConns, s.MaxConnWait, s.IdleTimeout, s.DialTimeout, s.WriteTimeout, s.ReadBufferSize)
}

// deploymentPool returns the pool for d's host with d's settings.
func (r *Registry) deploymentPool(cd *config.Deployment, addr string, tls bool) (connPool, time.Duration) {
	s := r.pools.settings.withConfig(cd.ConnectionPool).withDefaults()
	return r.pools.getWith(addr, tls, s), s.ReadTimeout
}
