package server

import (
	"context"
	"time"

	"github.com/llmedge/llmedge/server/replicas"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// Replicas: with router_settings Redis, this server joins the replicas
// sharing it (server/replicas): deployment health is exchanged a few
// times a second, POST /config/reload is announced to every replica,
// and /health/readiness lists the config version each one runs.

// replicaNode is the membership in force and what it was started for.
type replicaNode struct {
	node *replicas.Node
	conf replicas.Conf
	ns   string
}

// joinReplicas starts, keeps or replaces the membership after sn was
// published: a change of Redis or of namespace (master key) joins anew.
// Called with reloadMu held, or from New.
func (s *Server) joinReplicas(sn *snapshot) {
	conf := sn.edge.st.redis
	ns := ""
	if conf.Enabled() {
		ns = sn.auth.names.Name('n', nil)
	}
	old := s.replicaNode.Load()
	if old != nil && old.conf == conf && old.ns == ns {
		return
	}
	var next *replicaNode
	if conf.Enabled() {
		n, err := replicas.Start(conf, ns, s.opts.Logger, replicas.Hooks{
			Registry: func() *upstream.Registry { return s.current().reg },
			Reload:   s.Reload,
			Version:  func() string { return s.current().version },
		})
		if err != nil {
			s.opts.Logger.Error("cannot share state with other replicas", "err", err.Error())
		} else {
			next = &replicaNode{node: n, conf: conf, ns: ns}
		}
	}
	s.replicaNode.Store(next)
	if old != nil {
		go old.node.Close()
	}
}

// leaveReplicas stops sharing (shutdown).
func (s *Server) leaveReplicas() {
	if old := s.replicaNode.Swap(nil); old != nil {
		old.node.Close()
	}
}

// announceReload asks the other replicas to reload too; false when
// there are none to ask (no Redis).
func (s *Server) announceReload() bool {
	rn := s.replicaNode.Load()
	if rn == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), replicas.Timeout)
	defer cancel()
	if err := rn.node.AnnounceReload(ctx); err != nil {
		s.opts.Logger.Warn("could not announce the reload to the other replicas (Redis unreachable): reload them one by one", "err", err.Error())
		return false
	}
	return true
}

// appendReplicaStatus adds this replica's config version and, with
// Redis, every replica's to /health/readiness.
func (s *Server) appendReplicaStatus(b []byte) []byte {
	b = append(b, `,"config_version":`...)
	b = appendJSONString(b, s.current().version)
	rn := s.replicaNode.Load()
	if rn == nil {
		return b
	}
	b = append(b, `,"replica":`...)
	b = appendJSONString(b, rn.node.ID())
	b = append(b, `,"shared_state":{"store":"redis","healthy":`...)
	if rn.node.Healthy() {
		b = append(b, "true"...)
	} else {
		b = append(b, `false,"detail":"Redis unreachable: cooldowns, failure counts and deployment usage hold per replica until it is back"`...)
	}
	b = append(b, `},"replicas":[`...)
	for i, r := range rn.node.Replicas() {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"replica":`...)
		b = appendJSONString(b, r.ID)
		b = append(b, `,"config_version":`...)
		b = appendJSONString(b, r.ConfigVersion)
		b = append(b, `,"seen_ms_ago":`...)
		b = appendInt(b, time.Since(r.Seen).Milliseconds())
		b = append(b, '}')
	}
	return append(b, ']')
}

// handleReloadAnswer writes POST /config/reload's answer.
func (s *Server) writeReloaded(ctx *fasthttp.RequestCtx, announced bool) {
	sn := s.current()
	b := append(ctx.Response.Body()[:0], `{"status":"reloaded","models":`...)
	b = appendInt(b, int64(len(sn.reg.Groups())))
	b = append(b, `,"deployments":`...)
	b = appendInt(b, int64(len(sn.cfg.Deployments)))
	b = append(b, `,"config_version":`...)
	b = appendJSONString(b, sn.version)
	b = append(b, `,"replicas_asked":`...)
	if announced {
		b = append(b, "true"...)
	} else {
		b = append(b, "false"...)
	}
	b = append(b, '}')
	ctx.Response.Header.SetContentType("application/json")
	ctx.Response.SetBodyRaw(b)
}
