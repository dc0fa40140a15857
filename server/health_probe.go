package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmedge/llmedge/upstream"
)

// Background health checks (general_settings.background_health_checks):
// each config snapshot probes every deployment once at start and then
// once per health_check_interval (never more often: one probe round at
// a time, the next interval counted from the round's end), and /health
// reports the last results. A reload stops the old snapshot's loop.

// defaultHealthCheckInterval is LiteLLM's health_check_interval default.
const defaultHealthCheckInterval = 300 * time.Second

type probeLoop struct {
	results atomic.Pointer[map[*upstream.Deployment]error]
	stop    chan struct{}
	once    sync.Once
}

// startProbes starts sn's background probes when the config asks.
func (sn *snapshot) startProbes() {
	g := &sn.cfg.General
	if !g.BackgroundHealthChecks {
		return
	}
	every := g.HealthCheckInterval
	if every <= 0 {
		every = defaultHealthCheckInterval
	}
	sn.probes.stop = make(chan struct{})
	go func() {
		t := time.NewTimer(0)
		defer t.Stop()
		for {
			select {
			case <-sn.probes.stop:
				return
			case <-t.C:
			}
			res := map[*upstream.Deployment]error{}
			for _, grp := range sn.reg.Groups() {
				for d, err := range probeGroup(sn.reg, grp) {
					res[d] = err
				}
			}
			sn.probes.results.Store(&res)
			t.Reset(every)
		}
	}()
}

// stopProbes ends sn's background probes (idempotent; nil-safe).
func (sn *snapshot) stopProbes() {
	if sn == nil || sn.probes.stop == nil {
		return
	}
	sn.probes.once.Do(func() { close(sn.probes.stop) })
}

// probeResults are the last background probe results (nil: none).
func (sn *snapshot) probeResults() map[*upstream.Deployment]error {
	if p := sn.probes.results.Load(); p != nil {
		return *p
	}
	return nil
}
