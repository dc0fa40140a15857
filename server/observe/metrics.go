package observe

// Prometheus metrics, served at GET /metrics (the server answers the
// route; AppendExposition writes the page).
//
// Library: github.com/VictoriaMetrics/metrics (from fasthttp's author).
// Its counters are one atomic add, its Prometheus histograms a short
// bucket scan under a per-series mutex, and it has no registry lookup,
// no label-vector hashing and no allocation on update — unlike
// prometheus/client_golang, whose WithLabelValues hashes the label
// values on every call and which pulls in protobuf. Writing the text
// format by hand would be possible but histograms, escaping and process
// metrics are exactly what the library already gets right.
//
// Every series is created lazily on first use from names built once,
// and cached in a pointer the hot path loads atomically: a request costs
// a map lookup (its deployment), a few atomic adds and three histogram
// updates. Label values come from the config only (model_name,
// deployment id, key names) or from fixed sets (status class, reason):
// never from request text, never a key.

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/llmedge/llmedge/internal/tracing"
	"github.com/llmedge/llmedge/upstream"
)

// Buckets, in seconds. Latency covers a cached answer to a long
// reasoning call; overhead is llmedge's own time, so much finer.
var (
	latencyBuckets  = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}
	overheadBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}
)

// Reasons a request is refused before it reaches an upstream (label
// values of llmedge_rejected_requests_total).
const (
	RejectAuth          = "auth"
	RejectBadRequest    = "bad_request"
	RejectModelNotFound = "model_not_found"
	RejectRateLimited   = "rate_limited"
	// RejectModelNotAllowed: the key may not use the model (403).
	RejectModelNotAllowed = "model_not_allowed"
	// the model's deployments do not serve the route (e.g. embeddings
	// on a chat-only provider)
	RejectRouteNotServed = "route_not_served"
	// RejectUserMismatch: a key bound to a memory user named another
	// in the custom header (403).
	RejectUserMismatch = "user_mismatch"
	// RejectBodiesInFlight: the bodies in flight are at their bound (503).
	RejectBodiesInFlight = "bodies_in_flight"
	// RejectIPNotAllowed and RejectRouteNotAllowed: general_settings
	// allowed_ips / allowed_routes refused the request (403).
	RejectIPNotAllowed    = "ip_not_allowed"
	RejectRouteNotAllowed = "route_not_allowed"
	// RejectBodyTooLarge: the body is over the size limit (413).
	RejectBodyTooLarge = "body_too_large"
	// RejectMalformed: fasthttp could not read the request (400, 408,
	// 431).
	RejectMalformed = "malformed_request"
	// RejectBudget: a database key blocked, expired or over a budget.
	RejectBudget = "budget"
)

var exposeMetadataOnce sync.Once

// ErrStreamCut is a stream's outcome when the server's shutdown grace
// ran out before it ended (access log "error",
// llmedge_stream_errors_total reason "shutdown").
var ErrStreamCut = errors.New("stream cut: llmedge is shutting down and its grace period ran out")

// Options say what a Recorder records and where the gauges it
// exposes read from.
type Options struct {
	// Logger receives the access-log lines (through its handler).
	Logger *slog.Logger
	// AccessLog writes one info line per request to Logger.
	AccessLog bool
	// AccessLogOut, when set, receives the access-log lines formatted
	// in place (accesslog_line.go), JSON with AccessLogJSON.
	AccessLogOut  io.Writer
	AccessLogJSON bool
	// DisableMetrics stops recording request metrics; the exposition
	// then shows process metrics only.
	DisableMetrics bool
	// Version labels llmedge_build_info; Started is the first config's
	// load time.
	Version string
	Started time.Time
	// InFlight and BodyBytes are read at scrape time: requests being
	// served, and bytes of large request bodies held.
	InFlight, BodyBytes func() int64
	// Current returns the series of the config in force (its
	// deployments' gauges are written at scrape time).
	Current func() *Series
	// Tracer, when set, traces every proxied request (trace.go); nil
	// (tracing off) costs a nil check per request.
	Tracer *tracing.Tracer
}

// Recorder records what the server's calls do: every series of one
// server, and its access log.
type Recorder struct {
	opts Options
	set  *metrics.Set
	// off disables recording (Options.DisableMetrics).
	off bool

	streams atomic.Int64 // open client streams

	rejected    lazyMap[*metrics.Counter] // by reason
	rateLimited lazyMap[*metrics.Counter] // by reason
	fallbacks   lazyMap[*metrics.Counter] // by "from\x00to"

	// answerWriteTimeouts counts complete answers cut because their
	// client stopped reading (server/writestall.go).
	answerWriteTimeouts *metrics.Counter

	reloadOK, reloadFailed *metrics.Counter
	reloadedAt             *metrics.Gauge
}

// New makes the Recorder of one server.
func New(opts Options) *Recorder {
	exposeMetadataOnce.Do(func() { metrics.ExposeMetadata(true) })
	m := &Recorder{opts: opts, set: metrics.NewSet(), off: opts.DisableMetrics}
	m.set.NewGauge(`llmedge_requests_in_flight`, func() float64 { return float64(opts.InFlight()) })
	m.set.NewGauge(`llmedge_streams_open`, func() float64 { return float64(m.streams.Load()) })
	m.set.NewGauge(`llmedge_request_body_bytes_in_flight`, func() float64 { return float64(opts.BodyBytes()) })
	m.answerWriteTimeouts = m.set.NewCounter(`llmedge_answer_write_timeouts_total`)
	m.set.NewGauge(`llmedge_build_info{version=`+quoteLabel(opts.Version)+`}`, func() float64 { return 1 })
	m.reloadOK = m.set.NewCounter(`llmedge_config_reloads_total{result="success"}`)
	m.reloadFailed = m.set.NewCounter(`llmedge_config_reloads_total{result="failure"}`)
	m.reloadedAt = m.set.NewGauge(`llmedge_config_last_reload_success_timestamp_seconds`, nil)
	m.reloadedAt.Set(float64(opts.Started.Unix()))
	m.set.RegisterMetricsWriter(func(w io.Writer) { writeDeploymentGauges(w, opts.Current()) })
	m.set.RegisterMetricsWriter(func(w io.Writer) { writeProbeGauges(w, opts.Current()) })
	return m
}

// AddWriter adds series written at scrape time by f (the response
// cache's counters, read from the running config's cache).
func (m *Recorder) AddWriter(f func(w io.Writer)) { m.set.RegisterMetricsWriter(f) }

// Enabled reports whether request metrics are recorded.
func (m *Recorder) Enabled() bool { return !m.off }

// Reloaded counts a config reload by result; a success also dates the
// config in force.
func (m *Recorder) Reloaded(ok bool) {
	if !ok {
		m.reloadFailed.Inc()
		return
	}
	m.reloadOK.Inc()
	m.reloadedAt.Set(float64(time.Now().Unix()))
}

// AnswerWriteTimeout counts a complete answer cut because its client
// stopped reading.
func (m *Recorder) AnswerWriteTimeout() { m.answerWriteTimeouts.Inc() }

// writeDeploymentGauges writes, at scrape time, the state of the
// running config's deployments: calls in flight and availability. Read
// from the snapshot, so a reload never leaves stale series behind.
func writeDeploymentGauges(w io.Writer, rm *Series) {
	var b []byte
	b = appendMetadata(b, "llmedge_deployment_in_flight", "gauge")
	for _, dm := range rm.ordered {
		b = append(b, "llmedge_deployment_in_flight{"...)
		b = append(b, dm.labels...)
		b = append(b, "} "...)
		b = strconv.AppendInt(b, dm.d.InFlight(), 10)
		b = append(b, '\n')
	}
	b = appendMetadata(b, "llmedge_deployment_available", "gauge")
	for _, dm := range rm.ordered {
		b = append(b, "llmedge_deployment_available{"...)
		b = append(b, dm.labels...)
		b = append(b, "} "...)
		if ok, _ := dm.d.Available(); ok {
			b = append(b, '1')
		} else {
			b = append(b, '0')
		}
		b = append(b, '\n')
	}
	_, _ = w.Write(b)
}

// RateLimited counts a request refused by a rate limit; reason is a
// fixed word chosen by the limiter ("rpm", "tpm", "budget", ...), never
// request text. (The request itself is logged and counted by Rejected
// with RejectRateLimited.)
func (m *Recorder) RateLimited(reason string) {
	if m.off {
		return
	}
	m.rateLimited.get(reason, func() *metrics.Counter {
		return m.set.GetOrCreateCounter(`llmedge_rate_limited_total{reason=` + quoteLabel(reason) + `}`)
	}).Inc()
}

func (m *Recorder) rejectedInc(reason string) {
	m.rejected.get(reason, func() *metrics.Counter {
		return m.set.GetOrCreateCounter(`llmedge_rejected_requests_total{reason=` + quoteLabel(reason) + `}`)
	}).Inc()
}

// AppendExposition appends the Prometheus text exposition format to
// dst: llmedge's series, the Go runtime's and the process's (open and
// max file descriptors included, counted from /proc/self/fd at scrape
// time on Linux), with help texts filled in (metrics_help.go).
func (m *Recorder) AppendExposition(dst []byte) []byte {
	var raw bytes.Buffer
	m.set.WritePrometheus(&raw)
	metrics.WriteProcessMetrics(&raw)
	metrics.WriteFDMetrics(&raw)
	return appendWithHelp(slices.Grow(dst, raw.Len()+4<<10), raw.Bytes())
}

// statusClass maps a status to requests_total's index: 1..5 for
// 1xx..5xx, 0 otherwise.
func statusClass(status int) int {
	if status >= 100 && status < 600 {
		return status / 100
	}
	return 0
}

var statusClassLabel = [6]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"}

func streamIdx(stream bool) int {
	if stream {
		return 1
	}
	return 0
}

// depMetrics are the series of one deployment (or of a model group when
// no deployment was chosen, or of requests refused before routing).
type depMetrics struct {
	set        *metrics.Set
	modelName  string
	deployment string
	labels     string               // `model_name="..",deployment=".."`
	d          *upstream.Deployment // nil for group and unrouted series
	group      *groupMetrics

	requests [6][2]atomic.Pointer[metrics.Counter]
	duration [2]atomic.Pointer[metrics.PrometheusHistogram]
	ttfb     [2]atomic.Pointer[metrics.PrometheusHistogram]
	overhead [2]atomic.Pointer[metrics.PrometheusHistogram]

	attempts, retries, cooldowns atomic.Pointer[metrics.Counter]
	// streams that ended badly after their 200, by streamErrorReasons
	streamErrors [3]atomic.Pointer[metrics.Counter]
	// probe is the last health probe (probe.go).
	probe probeState
}

func newDepMetrics(set *metrics.Set, g *groupMetrics, deployment string) *depMetrics {
	return &depMetrics{set: set, group: g, modelName: g.name, deployment: deployment,
		labels: `model_name=` + quoteLabel(g.name) + `,deployment=` + quoteLabel(deployment)}
}

func streamLabel(i int) string {
	if i == 1 {
		return `,stream="true"`
	}
	return `,stream="false"`
}

func (dm *depMetrics) request(status int, stream bool) *metrics.Counter {
	c, si := statusClass(status), streamIdx(stream)
	if p := dm.requests[c][si].Load(); p != nil {
		return p
	}
	p := dm.set.GetOrCreateCounter(`llmedge_requests_total{` + dm.labels + `,status=` + quoteLabel(statusClassLabel[c]) + streamLabel(si) + `}`)
	dm.requests[c][si].Store(p)
	return p
}

func (dm *depMetrics) hist(p *atomic.Pointer[metrics.PrometheusHistogram], name string, stream int, buckets []float64) *metrics.PrometheusHistogram {
	if h := p.Load(); h != nil {
		return h
	}
	h := dm.set.GetOrCreatePrometheusHistogramExt(name+`{`+dm.labels+streamLabel(stream)+`}`, buckets)
	p.Store(h)
	return h
}

func (dm *depMetrics) counter(p *atomic.Pointer[metrics.Counter], name string) *metrics.Counter {
	if c := p.Load(); c != nil {
		return c
	}
	c := dm.set.GetOrCreateCounter(name + `{` + dm.labels + `}`)
	p.Store(c)
	return c
}

// observe records one finished request.
func (dm *depMetrics) observe(status int, stream bool, duration, ttfb, overhead time.Duration) {
	si := streamIdx(stream)
	dm.request(status, stream).Inc()
	dm.hist(&dm.duration[si], "llmedge_request_duration_seconds", si, latencyBuckets).Update(duration.Seconds())
	if ttfb > 0 {
		dm.hist(&dm.ttfb[si], "llmedge_ttfb_seconds", si, latencyBuckets).Update(ttfb.Seconds())
	}
	dm.hist(&dm.overhead[si], "llmedge_overhead_seconds", si, overheadBuckets).Update(overhead.Seconds())
}

// Causes of a stream that ended badly after its 200 (label values of
// llmedge_stream_errors_total), by index.
var streamErrorReasons = [3]string{"upstream", "client_gone", "shutdown"}

// streamErrorCause maps a stream's relay error to its reason's index.
func streamErrorCause(err error) int {
	switch {
	case errors.Is(err, ErrStreamCut):
		return 2
	case errors.Is(err, upstream.ErrClientGone) || errors.Is(err, upstream.ErrCanceled):
		return 1
	}
	return 0
}

// streamError counts a stream cut after it started, by cause index.
func (dm *depMetrics) streamError(cause int) {
	p := &dm.streamErrors[cause]
	c := p.Load()
	if c == nil {
		c = dm.set.GetOrCreateCounter(`llmedge_stream_errors_total{` + dm.labels + `,reason="` + streamErrorReasons[cause] + `"}`)
		p.Store(c)
	}
	c.Inc()
}

// usage records tokens and their cost (USD, Call.Cost: the
// deployment's price from upstream/pricing) under the key name.
func (dm *depMetrics) usage(key string, prompt, completion int64, cost float64) {
	if prompt <= 0 && completion <= 0 {
		return
	}
	tc := dm.group.tokens.get(key, func() *tokenCounters { return newTokenCounters(dm.set, dm.modelName, key) })
	tc.prompt.AddInt64(prompt)
	tc.completion.AddInt64(completion)
	if cost > 0 {
		tc.cost.Add(cost)
	}
}

// groupMetrics are the series of one model_name.
type groupMetrics struct {
	name   string
	none   *depMetrics // requests that got no deployment
	tokens lazyMap[*tokenCounters]
}

type tokenCounters struct {
	prompt, completion *metrics.Counter
	cost               *metrics.FloatCounter
}

func newTokenCounters(set *metrics.Set, model, key string) *tokenCounters {
	l := `{model_name=` + quoteLabel(model) + `,key=` + quoteLabel(key) + `}`
	return &tokenCounters{
		prompt:     set.GetOrCreateCounter(`llmedge_prompt_tokens_total` + l),
		completion: set.GetOrCreateCounter(`llmedge_completion_tokens_total` + l),
		cost:       set.GetOrCreateFloatCounter(`llmedge_cost_usd_total` + l),
	}
}

// quoteLabel renders a Prometheus label value: quoted, with \, " and
// newlines escaped.
func quoteLabel(v string) string {
	var b strings.Builder
	b.Grow(len(v) + 2)
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// lazyMap is a read-mostly string map: lookups are a lock-free load of
// an immutable map; a miss copies it under a lock.
type lazyMap[V any] struct {
	m  atomic.Pointer[map[string]V]
	mu sync.Mutex
}

func (l *lazyMap[V]) get(k string, create func() V) V {
	if m := l.m.Load(); m != nil {
		if v, ok := (*m)[k]; ok {
			return v
		}
	}
	return l.insert(k, create)
}

func (l *lazyMap[V]) insert(k string, create func() V) V {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.m.Load()
	if old != nil {
		if v, ok := (*old)[k]; ok {
			return v
		}
	}
	n := make(map[string]V, 1)
	if old != nil {
		n = make(map[string]V, len(*old)+1)
		for k, v := range *old {
			n[k] = v
		}
	}
	v := create()
	n[k] = v
	l.m.Store(&n)
	return v
}
