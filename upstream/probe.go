package upstream

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/llmedge/llmedge/internal/jsonx"
)

// ErrNotProbed is Probe's answer for a deployment it cannot probe.
var ErrNotProbed = errors.New("not probed: a wildcard deployment has no model of its own to call")

// Probe checks that d answers now: one chat completion asking for a
// single token ("ping", max_tokens 1), sent to d alone: no retry, no
// fallback, no cooldown or rate-limit accounting. It is what GET
// /health?model= runs. A wildcard or catch-all deployment has no model
// of its own to ask for and is not probed (an error says so).
func (reg *Registry) Probe(d *Deployment, timeout time.Duration) error {
	if ok, why := d.Available(); !ok {
		return errors.New(why)
	}
	if d.Wildcard || d.catchAll != nil || strings.Contains(d.ModelName, "*") {
		return ErrNotProbed
	}
	g := reg.groups[d.ModelName]
	body := []byte(`{"model":`)
	start := len(body)
	body = jsonx.AppendString(body, d.ModelName)
	end := len(body)
	body = append(body, `,"messages":[{"role":"user","content":"ping"}],"max_tokens":1}`...)
	req := &ChatRequest{Body: body, ModelStart: start, ModelEnd: end, Model: []byte(d.ModelName), Cancel: &Cancel{},
		RequestID: []byte("llmedge-health-probe")}
	t := time.AfterFunc(timeout, req.Cancel.Cancel)
	defer t.Stop()
	out := AcquireResponse()
	defer ReleaseResponse(out)
	if err := reg.attempt(d, g, req, out, req.Model); err != nil {
		if req.Cancel.Canceled() {
			return errors.New("no answer within " + timeout.String())
		}
		return err
	}
	if out.StatusCode >= 300 {
		return errors.New("upstream answered " + strconv.Itoa(out.StatusCode))
	}
	return nil
}

// FailStreak is the number of d's attempts in a row that failed for
// a reason of d's (5xx, connection failures, 401/403), for /health's
// passive state: a group of one deployment never cools down.
func (d *Deployment) FailStreak() int64 { return d.health.failStreak.Load() }

// noteStreak updates d's failure streak after an attempt.
func (h *health) noteStreak(e *Error) {
	switch {
	case e == nil:
		if h.failStreak.Load() != 0 {
			h.failStreak.Store(0)
		}
	case e.Status >= 500 || e.Status == 401 || e.Status == 403:
		h.failStreak.Add(1)
	}
}
