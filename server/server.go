package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/router"
	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/tracing"
	"github.com/llmedge/llmedge/keys"
	"github.com/llmedge/llmedge/server/connwatch"
	"github.com/llmedge/llmedge/server/observe"
	"github.com/llmedge/llmedge/server/request"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
)

// Options tune the server. Every zero value has the default stated.
type Options struct {
	// Logger receives startup and error logs. Nil means slog.Default().
	Logger *slog.Logger
	// MaxRequestBodySize in bytes. Default 32 MiB: room for several
	// base64 images (OpenAI accepts images up to 20 MB).
	MaxRequestBodySize int
	// ReadTimeout bounds reading one request, headers and body, from its
	// first byte (slowloris guard). Default 60s.
	ReadTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle this long. Default 120s.
	IdleTimeout time.Duration
	// MaxHeaderBytes is the largest request header accepted; it is also
	// the size of a connection's read buffer. Default 8 KiB, like nginx's
	// large header buffers.
	MaxHeaderBytes int
	// KeepConnBuffers keeps each client connection's read and write
	// buffers for its whole life, as fasthttp does by default. Default
	// false: a connection holds no read buffer while it idles or its
	// request runs (a stream, for minutes), and no write buffer between
	// responses. Keeping them makes a non-stream request cost 2-3% less
	// CPU (no buffers taken from and given back to pools, no separate
	// wait for the first bytes) and costs the read buffer's touched
	// pages per open stream (2,000 streams: 98 -> 106 MB peak RSS) and
	// both buffers per idle keep-alive connection (docs/performance.md).
	KeepConnBuffers bool
	// MaxConnsPerIP limits connections from one IP; 0 = unlimited (default).
	MaxConnsPerIP int
	// MaxRequestBodyInFlight bounds the bytes of request bodies over
	// 16 KiB held at once, from their first byte read to the end of
	// their request (bodyadmit.go). Default 256 MiB; never below
	// MaxRequestBodySize, so that one body of the largest size fits.
	MaxRequestBodyInFlight int64
	// ClientWriteTimeout is how long a write to a client may block
	// before the connection is cut: a stream's next event, a complete
	// answer's next bytes (writestall.go). Default 2 minutes.
	ClientWriteTimeout time.Duration
	// Keys, when set, holds the database's virtual keys: they
	// authenticate beside api_keys, their budgets are enforced and
	// their spend added, and LiteLLM's management API is served
	// (dbkeys.go). Its owner closes it after Shutdown (spend flushed).
	Keys *keys.Cache
	// Observability and reload (package observe, snapshot.go).
	ObserveOptions
}

// ObserveOptions are the Options for metrics, access logs and config
// reload.
type ObserveOptions struct {
	// AccessLog writes one info line per chat request to Logger.
	// Default off (llmedge serve turns it on).
	AccessLog bool
	// AccessLogOut, when set, receives the access-log lines directly:
	// formatted in place as Logger's handler would print them if it is
	// slog's TextHandler (JSONHandler with AccessLogJSON) without
	// ReplaceAttr/AddSource/WithAttrs, one Write per line, no
	// allocation. Pass the writer under that handler so lines
	// interleave; it must be safe for concurrent use. Logger still
	// decides whether info is enabled. Nil: lines go through Logger.
	AccessLogOut  io.Writer
	AccessLogJSON bool
	// DisableMetrics stops recording request metrics; GET /metrics then
	// shows process metrics only. Default false.
	DisableMetrics bool
	// LoadConfig re-reads the config file for Reload (SIGHUP, POST
	// /config/reload). Nil: reload is unavailable.
	LoadConfig func() (*config.Config, error)
	// Registry are the options a reloaded config's registry is built
	// with (Previous is set by the server).
	Registry upstream.Options
	// Tracer, when set, traces every proxied request (server/observe,
	// trace.go); nil (tracing off) costs a nil check per request.
	Tracer *tracing.Tracer
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxRequestBodySize <= 0 {
		o.MaxRequestBodySize = 32 << 20
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 60 * time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 120 * time.Second
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = 8 << 10
	}
	if o.MaxRequestBodyInFlight <= 0 {
		o.MaxRequestBodyInFlight = 256 << 20
	}
	o.MaxRequestBodyInFlight = max(o.MaxRequestBodyInFlight, int64(o.MaxRequestBodySize))
	if o.ClientWriteTimeout <= 0 {
		o.ClientWriteTimeout = clientWriteTimeout
	}
	return o
}

// Server is llmedge's client-facing HTTP server.
type Server struct {
	// snap is the config in force (snapshot.go); reloads swap it.
	snap atomic.Pointer[snapshot]
	// lastProbeRound is when the last background health-probe round
	// started (unix ns), so a reload does not probe sooner (health_probe.go).
	lastProbeRound atomic.Int64
	reloadMu       sync.Mutex
	// obs records metrics and the access log (package observe).
	obs  *observe.Recorder
	opts Options
	srv  *fasthttp.Server

	started time.Time

	idPrefix [8]byte
	idSeq    atomic.Uint64

	// inflight counts client requests being served (streams included),
	// until their answer is written.
	inflight atomic.Int64
	// streams are the SSE answers being relayed (shutdown.go).
	streams openStreams
	// bodies bounds the large request bodies held (bodyadmit.go).
	bodies *bodyBudget

	// replicaNode shares state with the other replicas (replicas.go).
	replicaNode atomic.Pointer[replicaNode]
	// dbKeys are the database's virtual keys (nil without Options.Keys).
	dbKeys *dbKeys

	// setupErr is a problem in the settings admission.go enforces: Serve
	// refuses to start with it.
	setupErr error
}

// New builds a server for cfg, answering through reg.
func New(cfg *config.Config, reg *upstream.Registry, opts Options) *Server {
	st, stErr := parseEdgeSettings(cfg)
	opts = st.fill(opts).withDefaults()
	s := &Server{opts: opts, started: time.Now(), setupErr: stErr, bodies: newBodyBudget(opts.MaxRequestBodyInFlight)}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	hex.Encode(s.idPrefix[:], rnd[:])
	s.obs = observe.New(observe.Options{
		Logger: opts.Logger, AccessLog: opts.AccessLog, AccessLogOut: opts.AccessLogOut, AccessLogJSON: opts.AccessLogJSON,
		DisableMetrics: opts.DisableMetrics, Version: Version, Started: s.started,
		InFlight: s.inflight.Load, BodyBytes: s.bodies.used.Load,
		Current: func() *observe.Series { return s.current().series },
		Tracer:  opts.Tracer,
	})
	if opts.Keys != nil {
		s.dbKeys = newDBKeys(opts.Keys)
	}
	s.obs.AddWriter(func(w io.Writer) { writeCacheMetrics(w, s.current()) })
	s.snap.Store(s.newSnapshot(cfg, reg))
	s.joinReplicas(s.current())

	r := router.New()
	r.SaveMatchedRoutePath = false
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.HandleOPTIONS = false // CORS preflights are answered by cors.go, or refused
	for _, p := range []string{"/v1/chat/completions", "/chat/completions"} {
		r.POST(p, s.handleChat)
	}
	s.routeCompletions(r)
	s.routeEmbeddings(r)
	s.routeResponses(r)
	for _, p := range []string{"/v1/models", "/models"} {
		r.GET(p, s.authed(s.handleModels))
	}
	r.GET("/health/liveliness", s.handleLiveliness)
	r.GET("/health/liveness", s.handleLiveliness)
	r.GET("/health/readiness", s.handleReadiness)
	r.GET("/health", s.handleHealth)
	s.routeMemoryAndMessages(r)
	r.GET("/metrics", s.handleMetrics)
	r.POST("/config/reload", s.adminOnly(s.handleReload))
	s.routeKeyAPI(r)
	r.NotFound = func(ctx *fasthttp.RequestCtx) {
		writeError(ctx, fasthttp.StatusNotFound, "unknown route: "+string(ctx.Method())+" "+request.Printable(ctx.Path()), "invalid_request_error", "", "route_not_found")
	}
	r.MethodNotAllowed = func(ctx *fasthttp.RequestCtx) {
		writeError(ctx, fasthttp.StatusMethodNotAllowed, "method "+string(ctx.Method())+" not allowed on "+request.Printable(ctx.Path()), "invalid_request_error", "", "method_not_allowed")
	}
	r.PanicHandler = func(ctx *fasthttp.RequestCtx, v any) {
		s.opts.Logger.Error("handler panic", "panic", v, "path", request.Printable(ctx.Path()))
		writeError(ctx, fasthttp.StatusInternalServerError, "internal error", "api_error", "", "internal_error")
	}

	s.srv = &fasthttp.Server{
		Handler:        s.withBodyHold(s.withCORS(r.Handler)),
		HeaderReceived: s.admitBody,
		Name:           "llmedge",
		ReadTimeout:    opts.ReadTimeout,
		IdleTimeout:    opts.IdleTimeout,
		// Every response is written under a write deadline of the
		// client write timeout, armed by fasthttp before it writes: a
		// model route's answer starts with it (clientWrite.armedAt) and
		// sets one of its own only to move it (writestall.go).
		WriteTimeout:       opts.ClientWriteTimeout,
		MaxRequestBodySize: opts.MaxRequestBodySize,
		ReadBufferSize:     opts.MaxHeaderBytes,
		MaxConnsPerIP:      opts.MaxConnsPerIP,
		// No route takes multipart forms; pre-parsing them would spool
		// uploads to temporary files.
		DisablePreParseMultipartForm: true,
		// Unless KeepConnBuffers, a connection holds no read buffer
		// while its request runs or while it idles between requests
		// (connwatch waits for the next request's first bytes without
		// one: package firstread): a stream lasts seconds to minutes
		// and SDK clients keep idle connections.
		ReduceMemoryUsage:             !opts.KeepConnBuffers,
		NoDefaultServerHeader:         true,
		NoDefaultContentType:          true,
		CloseOnShutdown:               true,
		DisableHeaderNamesNormalizing: false,
		ErrorHandler:                  s.handleTransportError,
		ConnState:                     connwatch.TrackHeads,
		Logger:                        discardLogger{},
	}
	return s
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

// handleTransportError answers requests fasthttp could not parse.
func (s *Server) handleTransportError(ctx *fasthttp.RequestCtx, err error) {
	if s.refuseBody(ctx) {
		ctx.SetConnectionClose()
		return
	}
	status, msg := fasthttp.StatusBadRequest, "malformed HTTP request"
	reason := observe.RejectMalformed
	switch {
	case isBodyTooLarge(err):
		status, msg = fasthttp.StatusRequestEntityTooLarge, "request body exceeds "+strconv.Itoa(s.opts.MaxRequestBodySize)+" bytes"
		reason = observe.RejectBodyTooLarge
	case isSmallBuffer(err):
		status, msg = fasthttp.StatusRequestHeaderFieldsTooLarge, "request headers too large"
	case isTimeout(err):
		status, msg = fasthttp.StatusRequestTimeout, "timed out reading the request"
	case errors.Is(err, connwatch.ErrBareLFHeaderEnd):
		msg = "malformed HTTP request: " + connwatch.ErrBareLFHeaderEnd.Error()
	}
	ctx.SetConnectionClose()
	writeError(ctx, status, msg, "invalid_request_error", "", "")
	// Counted and logged like every refusal (llmedge_rejected_requests_total,
	// access log "rejected").
	s.observeRejected(ctx, s.current(), nil, false, reason)
}

// Handler returns the request handler (for in-memory tests).
func (s *Server) Handler() fasthttp.RequestHandler { return s.srv.Handler }

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if s.setupErr != nil {
		_ = ln.Close()
		return s.setupErr
	}
	return s.srv.Serve(connwatch.Listen(ln, s.opts.MaxHeaderBytes))
}

// InFlight is the number of requests being served.
func (s *Server) InFlight() int64 { return s.inflight.Load() }

func (s *Server) authed(h fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		if !s.current().auth.check(&ctx.Request.Header) {
			writeAuthError(ctx)
			return
		}
		h(ctx)
	}
}

// adminOnly guards operator routes: the master key, not an api_keys key.
func (s *Server) adminOnly(h fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		if !s.current().auth.admin(&ctx.Request.Header) {
			writeAuthError(ctx)
			return
		}
		h(ctx)
	}
}

func writeAuthError(ctx *fasthttp.RequestCtx) {
	writeError(ctx, fasthttp.StatusUnauthorized, "invalid or missing API key: send it as 'Authorization: Bearer <key>'", "authentication_error", "", "invalid_api_key")
}

// requestID returns the client's x-request-id when it is sane (printable
// ASCII, at most 128 bytes), else a new one.
func (s *Server) requestID(ctx *fasthttp.RequestCtx, dst []byte) []byte {
	if v := ctx.Request.Header.PeekCanonical(hdrRequestID); len(v) > 0 && len(v) <= 128 && printable(v) {
		return append(dst, v...)
	}
	dst = append(dst, "llmedge-"...)
	dst = append(dst, s.idPrefix[:]...)
	dst = append(dst, '-')
	return strconv.AppendUint(dst, s.idSeq.Add(1), 16)
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}
