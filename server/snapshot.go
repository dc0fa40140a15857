package server

import (
	"errors"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/server/cache"
	"github.com/llmedge/llmedge/server/observe"
	"github.com/llmedge/llmedge/server/replicas"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// snapshot is everything a request needs that comes from the config. It
// is immutable once published: a handler loads it once and uses it to
// the end (a stream finishes on the config it started with) while a
// reload publishes a new one for the requests that follow.
//
// Whatever else is derived from the config (key tables, limits, ...)
// belongs here too, built in newSnapshot, so that it reloads with the
// rest.
type snapshot struct {
	cfg        *config.Config
	reg        *upstream.Registry
	auth       *authenticator
	modelsJSON []byte
	// metricsAuth: GET /metrics needs the master key
	// (general_settings.metrics_require_auth).
	metricsAuth bool
	// series are the metrics of the registry's deployments.
	series *observe.Series
	// mem resolves memory user ids (user_id_mappings, memory.go).
	mem *memoryRouter
	// keepalive is general_settings.stream_keepalive_seconds (0 = off).
	keepalive time.Duration
	// edge holds rate limits, CORS and the secrets to scrub (admission.go).
	edge *edge
	// probes are the background health checks' results (health_probe.go).
	probes probeLoop
	// version names the config file's content (replicas.go).
	version string
	// cache is the response cache (cached.go); nil when off.
	cache *cache.Cache
}

func (s *Server) newSnapshot(cfg *config.Config, reg *upstream.Registry) *snapshot {
	sn := &snapshot{
		cfg:         cfg,
		reg:         reg,
		modelsJSON:  buildModelsJSON(reg, s.started.Unix()),
		metricsAuth: cfg.General.MetricsRequireAuth,
		series:      s.obs.Series(reg),
		mem:         newMemoryRouter(cfg.UserIDMappings, s.opts.Logger),
		keepalive:   cfg.General.StreamKeepalive,
		version:     replicas.Version(cfg.Path),
	}
	prev := s.snap.Load()
	sn.auth, sn.edge = s.newEdge(cfg, reg, prev)
	sn.startProbes(&s.lastProbeRound)
	if rdb := sn.edge.gate.Redis(); rdb != nil {
		// Translated responses live where the limits do, so any
		// replica can continue them, under a namespace derived from the
		// master key (as the counters' names), so another gateway on
		// the same Redis reaches none of them.
		reg.UseRedisForResponses(rdb, sn.auth.names.Name('s', []byte("responses")))
	}
	sn.cache = s.newCache(cfg, prev)
	if s.opts.Keys != nil {
		// Spend counters too, so budgets hold across replicas (nil:
		// on the database alone). The namespace is per deployment,
		// as the rate-limit counters' names.
		s.opts.Keys.UseRedis(sn.edge.gate.Redis(), sn.auth.names.Name('$', []byte("spend")))
	}
	return sn
}

// current is the config snapshot new requests use.
func (s *Server) current() *snapshot { return s.snap.Load() }

// Config returns the config new requests are served with.
func (s *Server) Config() *config.Config { return s.current().cfg }

// Registry returns the registry new requests are served with.
func (s *Server) Registry() *upstream.Registry { return s.current().reg }

// errNoReload is returned by Reload when the server was built without
// Options.LoadConfig.
var errNoReload = errors.New("config reload is not available: the server was started without a config file")

// Reload re-reads the config with Options.LoadConfig and applies it.
// On any error the running config is kept and the error (which names
// the offending YAML path, never a secret) is returned.
func (s *Server) Reload() error {
	if s.opts.LoadConfig == nil {
		return errNoReload
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	cfg, err := s.opts.LoadConfig()
	if err != nil {
		return s.reloadFailed(err)
	}
	return s.applyLocked(cfg)
}

// Apply serves new requests from cfg: it builds a registry sharing the
// current one's connection pools and publishes the new snapshot.
// Requests in flight finish on the old one. An invalid cfg is rejected
// and the old one kept.
func (s *Server) Apply(cfg *config.Config) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	return s.applyLocked(cfg)
}

func (s *Server) applyLocked(cfg *config.Config) error {
	if err := CheckConfig(cfg); err != nil {
		return s.reloadFailed(err)
	}
	ro := s.opts.Registry
	prev := s.current().reg
	ro.Previous = prev
	reg, err := upstream.NewRegistry(cfg, ro)
	if err != nil {
		return s.reloadFailed(err)
	}
	sn := s.newSnapshot(cfg, reg)
	old := s.snap.Swap(sn)
	old.stopProbes()
	s.joinReplicas(sn)
	if !reg.SharesCookies(prev) {
		// cookie_store_path changed: save what the old store holds.
		if err := prev.Close(); err != nil {
			s.opts.Logger.Warn("saving the previous upstream cookie store", "err", err.Error())
		}
	}
	s.obs.Reloaded(true)
	log := s.opts.Logger
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	for _, w := range cfg.IgnoredWarnings() {
		log.Warn("config key not acted on: " + w)
	}
	for _, w := range reg.Warnings() {
		log.Warn(w)
	}
	log.Info("config reloaded", "models", len(reg.Groups()), "deployments", len(cfg.Deployments))
	return nil
}

func (s *Server) reloadFailed(err error) error {
	s.obs.Reloaded(false)
	s.opts.Logger.Error("config reload rejected, keeping the running config", "reason", err.Error())
	return err
}

// handleReload is POST /config/reload (master key required).
func (s *Server) handleReload(ctx *fasthttp.RequestCtx) {
	err := s.Reload()
	if err != nil {
		code, status := "invalid_config", fasthttp.StatusBadRequest
		if errors.Is(err, errNoReload) {
			code, status = "reload_unavailable", fasthttp.StatusNotImplemented
		}
		writeError(ctx, status, "config reload failed, running config kept: "+err.Error(), "invalid_request_error", "", code)
		return
	}
	s.writeReloaded(ctx, s.announceReload())
}
