package server

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/server/observe"
	"github.com/llmedge/llmedge/server/request"
	"github.com/valyala/fasthttp"
)

// Access rules from general_settings, as LiteLLM enforces them:
// allowed_ips (client addresses or CIDR ranges; others get 403) and
// allowed_routes (the paths served; others get 403). Both apply to
// every caller, the master key included; the liveness and readiness
// probes are exempt so that a load balancer can still check the
// process. The client address is the connection's peer (no
// X-Forwarded-For: a client could forge it).
type accessRules struct {
	ips []netip.Prefix
	// routes are the allowed paths without a leading "/v1" (each route
	// is served with and without it); a trailing "/*" allows the
	// subtree (e.g. "/responses/*").
	routes    []string
	routesSet bool
}

func parseAccessRules(g *config.GeneralSettings, errs *settingsError) *accessRules {
	if g.AllowedIPs == nil && g.AllowedRoutes == nil {
		return nil
	}
	a := &accessRules{}
	for i, s := range g.AllowedIPs {
		p := "general_settings.allowed_ips[" + strconv.Itoa(i) + "]"
		s = strings.TrimSpace(s)
		if pr, err := netip.ParsePrefix(s); err == nil {
			a.ips = append(a.ips, pr.Masked())
		} else if ip, err := netip.ParseAddr(s); err == nil {
			a.ips = append(a.ips, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
		} else {
			errs.add(p, "want an IP address or a CIDR range (\"10.0.0.0/8\"), got %q", s)
		}
	}
	if g.AllowedIPs != nil && len(a.ips) == 0 && len(g.AllowedIPs) == 0 {
		errs.add("general_settings.allowed_ips", "is empty: no client could connect (remove the key to allow every address)")
	}
	for i, r := range g.AllowedRoutes {
		r = strings.TrimSpace(r)
		if !strings.HasPrefix(r, "/") {
			errs.add("general_settings.allowed_routes["+strconv.Itoa(i)+"]", "want a path starting with \"/\", got %q", r)
			continue
		}
		a.routes = append(a.routes, strings.TrimPrefix(r, "/v1"))
	}
	a.routesSet = g.AllowedRoutes != nil
	return a
}

// ipAllowed reports whether the client at ip may connect.
func (a *accessRules) ipAllowed(ip netip.Addr) bool {
	if a.ips == nil {
		return true
	}
	ip = ip.Unmap()
	for _, p := range a.ips {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// routeAllowed reports whether path is served.
func (a *accessRules) routeAllowed(path []byte) bool {
	if !a.routesSet {
		return true
	}
	path = bytes.TrimPrefix(path, []byte("/v1"))
	for _, r := range a.routes {
		if sub, ok := strings.CutSuffix(r, "/*"); ok {
			if bytes.HasPrefix(path, []byte(sub+"/")) || string(path) == sub {
				return true
			}
			continue
		}
		if string(path) == r {
			return true
		}
	}
	return false
}

// isProbe reports whether path is a liveness or readiness probe.
func isProbe(path []byte) bool {
	switch string(path) {
	case "/health/liveliness", "/health/liveness", "/health/readiness":
		return true
	}
	return false
}

// refuseAccess answers a request allowed_ips or allowed_routes do not
// allow (403, counted and logged as rejected) and reports whether it did.
// withBodyHold calls it, before any other work, only when the config has
// access rules; it is a function of its own, not a handler wrapper, so
// that a request without rules pays no extra frame on its connection's
// stack (a stream holds that stack for its whole life: stack_test.go).
//
//go:noinline
func (s *Server) refuseAccess(ctx *fasthttp.RequestCtx) bool {
	sn := s.current()
	a := sn.edge.access
	if a == nil || isProbe(ctx.Path()) {
		return false
	}
	ip, _ := netip.AddrFromSlice(ctx.RemoteIP())
	var msg, code, reason string
	switch {
	case !a.ipAllowed(ip):
		msg, code, reason = "access forbidden: this client address is not in general_settings.allowed_ips", "ip_not_allowed", observe.RejectIPNotAllowed
	case !a.routeAllowed(ctx.Path()):
		msg, code, reason = "route "+request.Printable(ctx.Path())+" is not in general_settings.allowed_routes", "route_not_allowed", observe.RejectRouteNotAllowed
	default:
		return false
	}
	if isMessagesPath(ctx.Path()) {
		writeAnthropicError(ctx, fasthttp.StatusForbidden, "permission_error", msg)
	} else {
		writeError(ctx, fasthttp.StatusForbidden, msg, "permission_error", "", code)
	}
	s.observeRejected(ctx, sn, nil, false, reason)
	return true
}
