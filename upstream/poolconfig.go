package upstream

import (
	"fmt"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/transport"
)

// Connection pool settings from the config: router_settings.connection_pool
// for every upstream host, litellm_params.connection_pool for one
// deployment (its keys win; such a deployment gets its own pool). Keys:
//
//	max_connections      connections per upstream host (default 16384)
//	max_connection_wait  seconds to wait for a free connection (5)
//	idle_timeout         seconds an idle keep-alive connection is kept (90)
//	connect_timeout      seconds for TCP connect + TLS handshake (10)
//	write_timeout        seconds to send one request (30)
//	read_timeout         seconds of silence allowed while reading a
//	                     non-stream body (0 = the call's timeout only)
//
// Defaults are PoolSettings' (see there for why).

func poolSettingsFrom(m any, path string, base PoolSettings) (PoolSettings, config.Errors) {
	var errs config.Errors
	if m == nil {
		return base, nil
	}
	mm, ok := m.(map[string]any)
	if !ok {
		return base, config.Errors{{Path: path, Msg: "must be a map (max_connections, max_connection_wait, idle_timeout, connect_timeout, read_timeout, write_timeout)"}}
	}
	s := base
	for k, v := range mm {
		p := path + "." + k
		switch k {
		case "max_connections":
			f, ok := toFloat(v)
			if !ok || f < 1 || f > 1<<20 || f != float64(int(f)) {
				errs = append(errs, &config.Error{Path: p, Msg: "must be a whole number >= 1"})
				continue
			}
			s.MaxConns = int(f)
		case "max_connection_wait":
			s.MaxConnWait = secondsValue(v, p, s.MaxConnWait, &errs)
		case "idle_timeout":
			s.IdleTimeout = secondsValue(v, p, s.IdleTimeout, &errs)
		case "connect_timeout":
			s.DialTimeout = secondsValue(v, p, s.DialTimeout, &errs)
		case "write_timeout":
			s.WriteTimeout = secondsValue(v, p, s.WriteTimeout, &errs)
		case "read_timeout":
			s.ReadTimeout = secondsValue(v, p, s.ReadTimeout, &errs)
		default:
			errs = append(errs, &config.Error{Path: p, Msg: "unknown pool setting (known: max_connections, max_connection_wait, idle_timeout, connect_timeout, read_timeout, write_timeout)"})
		}
	}
	return s, errs
}

// deploymentPool returns the pool for d's host with d's settings.
func (r *Registry) deploymentPool(cd *config.Deployment, addr string, tls bool) (transport.Pool, time.Duration, *config.Error) {
	s, errs := poolSettingsFrom(cd.Params["connection_pool"], fmt.Sprintf("model_list[%d].litellm_params.connection_pool", cd.Index), r.net.Pools.Settings())
	if len(errs) > 0 {
		return nil, 0, errs[0]
	}
	s = s.WithDefaults()
	return r.net.Pools.GetWith(addr, tls, s), s.ReadTimeout, nil
}
