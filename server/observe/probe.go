package observe

import (
	"io"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/llmedge/llmedge/upstream"
)

// Health probes in the metrics: each probe's outcome (GET /health?model=
// and the background health checks) is counted, and the last one's
// result, time and duration are gauges written at scrape time from the
// running config's series, so a reload leaves no stale gauge behind.
// Failures are labelled with upstream's fixed probe classes, never an
// error's text.

// probeState is a deployment's last probe (zero: never probed).
type probeState struct {
	at      atomic.Int64 // unix nanoseconds; 0 = never
	took    atomic.Int64 // nanoseconds
	healthy atomic.Bool
}

// Probed records one probe of d (not one that was not sent for want of
// a model: upstream.ErrNotProbed).
func (rm *Series) Probed(d *upstream.Deployment, r upstream.ProbeResult) {
	dm := rm.deps[d]
	if dm == nil || r.Err == upstream.ErrNotProbed {
		return
	}
	dm.probe.took.Store(int64(r.Took))
	dm.probe.healthy.Store(r.Err == nil)
	dm.probe.at.Store(time.Now().UnixNano())
	if rm.m.off {
		return
	}
	method := r.Method
	if method == "" {
		method = "none"
	}
	rm.m.set.GetOrCreateCounter(`llmedge_health_probes_total{` + dm.labels + `,method="` + method + `"}`).Inc()
	if r.Err != nil {
		rm.m.set.GetOrCreateCounter(`llmedge_health_probe_failures_total{` + dm.labels + `,class=` + quoteLabel(r.Class) + `}`).Inc()
	}
}

// writeProbeGauges writes the last probe of each probed deployment.
func writeProbeGauges(w io.Writer, rm *Series) {
	var b []byte
	family := func(name string, val func(p *probeState) string) {
		first := true
		for _, dm := range rm.ordered {
			p := &dm.probe
			if p.at.Load() == 0 {
				continue
			}
			if first {
				b = appendMetadata(b, name, "gauge")
				first = false
			}
			b = append(b, name...)
			b = append(b, '{')
			b = append(b, dm.labels...)
			b = append(b, "} "...)
			b = append(b, val(p)...)
			b = append(b, '\n')
		}
	}
	family("llmedge_deployment_healthy", func(p *probeState) string {
		if p.healthy.Load() {
			return "1"
		}
		return "0"
	})
	family("llmedge_health_probe_duration_seconds", func(p *probeState) string {
		return strconv.FormatFloat(time.Duration(p.took.Load()).Seconds(), 'g', -1, 64)
	})
	family("llmedge_health_probe_timestamp_seconds", func(p *probeState) string {
		return strconv.FormatFloat(float64(p.at.Load())/1e9, 'f', 3, 64)
	})
	_, _ = w.Write(b)
}
