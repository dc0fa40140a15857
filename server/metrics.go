package server

// Prometheus metrics, served at GET /metrics.
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
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/llmedge/llmedge/upstream"
	"github.com/valyala/fasthttp"
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
	rejectAuth          = "auth"
	rejectBadRequest    = "bad_request"
	rejectModelNotFound = "model_not_found"
	rejectRateLimited   = "rate_limited"
	// rejectModelNotAllowed: the key may not use the model (403).
	rejectModelNotAllowed = "model_not_allowed"
	// the model's deployments do not serve the route (e.g. embeddings
	// on a chat-only provider)
	rejectRouteNotServed = "route_not_served"
	// rejectUserMismatch: a key bound to a memory user named another
	// in the custom header (403).
	rejectUserMismatch = "user_mismatch"
	// rejectBodiesInFlight: the bodies in flight are at their bound (503).
	rejectBodiesInFlight = "bodies_in_flight"
)

var exposeMetadataOnce sync.Once

// serverMetrics is every series of one Server.
type serverMetrics struct {
	set *metrics.Set
	// off disables recording (Options.DisableMetrics).
	off bool

	streams atomic.Int64 // open client streams

	rejected    lazyMap[*metrics.Counter] // by reason
	rateLimited lazyMap[*metrics.Counter] // by reason
	fallbacks   lazyMap[*metrics.Counter] // by "from\x00to"

	// answerWriteTimeouts counts complete answers cut because their
	// client stopped reading (writestall.go).
	answerWriteTimeouts *metrics.Counter

	reloadOK, reloadFailed *metrics.Counter
	reloadedAt             *metrics.Gauge
}

func newServerMetrics(s *Server, off bool) *serverMetrics {
	exposeMetadataOnce.Do(func() { metrics.ExposeMetadata(true) })
	m := &serverMetrics{set: metrics.NewSet(), off: off}
	m.set.NewGauge(`llmedge_requests_in_flight`, func() float64 { return float64(s.inflight.Load()) })
	m.set.NewGauge(`llmedge_streams_open`, func() float64 { return float64(m.streams.Load()) })
	m.set.NewGauge(`llmedge_request_body_bytes_in_flight`, func() float64 { return float64(s.bodies.used.Load()) })
	m.answerWriteTimeouts = m.set.NewCounter(`llmedge_answer_write_timeouts_total`)
	m.set.NewGauge(`llmedge_build_info{version=`+quoteLabel(Version)+`}`, func() float64 { return 1 })
	m.reloadOK = m.set.NewCounter(`llmedge_config_reloads_total{result="success"}`)
	m.reloadFailed = m.set.NewCounter(`llmedge_config_reloads_total{result="failure"}`)
	m.reloadedAt = m.set.NewGauge(`llmedge_config_last_reload_success_timestamp_seconds`, nil)
	m.reloadedAt.Set(float64(s.started.Unix()))
	m.set.RegisterMetricsWriter(func(w io.Writer) { writeDeploymentGauges(w, s.current()) })
	m.set.RegisterMetricsWriter(func(w io.Writer) { writeCacheMetrics(w, s.current()) })
	return m
}

// writeDeploymentGauges writes, at scrape time, the state of the
// running config's deployments: calls in flight and availability. Read
// from the snapshot, so a reload never leaves stale series behind.
func writeDeploymentGauges(w io.Writer, sn *snapshot) {
	var b []byte
	b = appendMetadata(b, "llmedge_deployment_in_flight", "gauge")
	for _, dm := range sn.metrics.ordered {
		b = append(b, "llmedge_deployment_in_flight{"...)
		b = append(b, dm.labels...)
		b = append(b, "} "...)
		b = strconv.AppendInt(b, dm.d.InFlight(), 10)
		b = append(b, '\n')
	}
	b = appendMetadata(b, "llmedge_deployment_available", "gauge")
	for _, dm := range sn.metrics.ordered {
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

// metricRateLimited counts a request refused by a rate limit; reason is
// a fixed word chosen by the limiter ("rpm", "tpm", "budget", ...),
// never request text. (The request itself is logged and counted by
// observeRejected with rejectRateLimited.)
func (s *Server) metricRateLimited(reason string) {
	m := s.metrics
	if m.off {
		return
	}
	m.rateLimited.get(reason, func() *metrics.Counter {
		return m.set.GetOrCreateCounter(`llmedge_rate_limited_total{reason=` + quoteLabel(reason) + `}`)
	}).Inc()
}

func (m *serverMetrics) rejectedInc(reason string) {
	m.rejected.get(reason, func() *metrics.Counter {
		return m.set.GetOrCreateCounter(`llmedge_rejected_requests_total{reason=` + quoteLabel(reason) + `}`)
	}).Inc()
}

// handleMetrics serves the Prometheus text exposition format: llmedge's
// series, the Go runtime's and the process's (open and max file
// descriptors included, counted from /proc/self/fd at scrape time on
// Linux), with help texts filled in (metrics_help.go).
func (s *Server) handleMetrics(ctx *fasthttp.RequestCtx) {
	sn := s.current()
	if sn.metricsAuth && !sn.auth.admin(&ctx.Request.Header) {
		writeAuthError(ctx)
		return
	}
	var raw bytes.Buffer
	s.metrics.set.WritePrometheus(&raw)
	metrics.WriteProcessMetrics(&raw)
	metrics.WriteFDMetrics(&raw)
	ctx.Response.Header.SetContentType("text/plain; version=0.0.4; charset=utf-8")
	ctx.Response.SetBodyRaw(appendWithHelp(make([]byte, 0, raw.Len()+4<<10), raw.Bytes()))
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

	// USD per token, from model_info; 0 = unknown.
	inCost, outCost float64

	requests [6][2]atomic.Pointer[metrics.Counter]
	duration [2]atomic.Pointer[metrics.PrometheusHistogram]
	ttfb     [2]atomic.Pointer[metrics.PrometheusHistogram]
	overhead [2]atomic.Pointer[metrics.PrometheusHistogram]

	attempts, retries, cooldowns atomic.Pointer[metrics.Counter]
	// streams that ended badly after their 200, by streamErrorReasons
	streamErrors [3]atomic.Pointer[metrics.Counter]
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
	case errors.Is(err, errStreamCut):
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

// usage records tokens and their estimated cost under the key name.
func (dm *depMetrics) usage(key string, prompt, completion int64) {
	if prompt <= 0 && completion <= 0 {
		return
	}
	tc := dm.group.tokens.get(key, func() *tokenCounters { return newTokenCounters(dm.set, dm.modelName, key) })
	tc.prompt.AddInt64(prompt)
	tc.completion.AddInt64(completion)
	if cost := float64(prompt)*dm.inCost + float64(completion)*dm.outCost; cost > 0 {
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

// regMetrics maps one Registry's deployments and groups to their series;
// it is the Registry's upstream.Observer. Built with each config
// snapshot; series with the same labels are shared across reloads.
type regMetrics struct {
	m       *serverMetrics
	deps    map[*upstream.Deployment]*depMetrics
	ordered []*depMetrics // deps in config order
	groups  map[*upstream.Group]*groupMetrics
	// unrouted counts requests refused before a model group was found.
	unrouted *depMetrics
}

func newRegMetrics(m *serverMetrics, reg *upstream.Registry) *regMetrics {
	rm := &regMetrics{m: m, deps: make(map[*upstream.Deployment]*depMetrics), groups: make(map[*upstream.Group]*groupMetrics)}
	rm.unrouted = newDepMetrics(m.set, &groupMetrics{}, "")
	for _, g := range reg.Groups() {
		gm := &groupMetrics{name: g.Name}
		gm.none = newDepMetrics(m.set, gm, "")
		rm.groups[g] = gm
		for _, d := range g.Deployments {
			dm := newDepMetrics(m.set, gm, d.ID)
			if d.Config != nil {
				dm.inCost = costPerToken(d.Config.ModelInfo, "input_cost_per_token")
				dm.outCost = costPerToken(d.Config.ModelInfo, "output_cost_per_token")
			}
			dm.d = d
			rm.deps[d] = dm
			rm.ordered = append(rm.ordered, dm)
		}
	}
	return rm
}

// forCall returns the series of a call routed to group g and answered
// (or failed) by d; either may be nil.
func (rm *regMetrics) forCall(g *upstream.Group, d *upstream.Deployment) *depMetrics {
	if d != nil {
		if dm := rm.deps[d]; dm != nil {
			return dm
		}
	}
	if gm := rm.groups[g]; gm != nil {
		return gm.none
	}
	return rm.unrouted
}

// Attempt implements upstream.Observer.
func (rm *regMetrics) Attempt(d *upstream.Deployment, retry bool) {
	dm := rm.deps[d]
	if dm == nil {
		return
	}
	dm.counter(&dm.attempts, "llmedge_upstream_attempts_total").Inc()
	if retry {
		dm.counter(&dm.retries, "llmedge_upstream_retries_total").Inc()
	}
}

// Cooldown implements upstream.Observer.
func (rm *regMetrics) Cooldown(d *upstream.Deployment) {
	if dm := rm.deps[d]; dm != nil {
		dm.counter(&dm.cooldowns, "llmedge_deployment_cooldowns_total").Inc()
	}
}

// Fallback implements upstream.Observer.
func (rm *regMetrics) Fallback(from, to *upstream.Group) {
	if from == nil || to == nil {
		return
	}
	m := rm.m
	m.fallbacks.get(from.Name+"\x00"+to.Name, func() *metrics.Counter {
		return m.set.GetOrCreateCounter(`llmedge_fallbacks_total{model_name=` + quoteLabel(from.Name) + `,fallback=` + quoteLabel(to.Name) + `}`)
	}).Inc()
}

// costPerToken reads a model_info price; YAML may give a number or a
// string such as "2.5e-06".
func costPerToken(info map[string]any, key string) float64 {
	var f float64
	switch v := info[key].(type) {
	case float64:
		f = v
	case int:
		f = float64(v)
	case int64:
		f = float64(v)
	case uint64:
		f = float64(v)
	case string:
		f, _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
	}
	if f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
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
