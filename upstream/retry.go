package upstream

import (
	"bytes"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/llmedge/llmedge/internal/clock"
)

// tryGroup is the retry loop, the only one in llmedge: it runs attempts
// on the deployments of g until one succeeds, the failure is not worth
// another attempt, the retries of its class are used up, or waiting
// longer would pass max_retry_wait_seconds. A retry goes to another
// deployment when one is left (at once), else to the same one after an
// exponential backoff with jitter; an upstream Retry-After is the least
// wait for the deployment that sent it. Every wait ends at once when the
// client goes away.
func (reg *Registry) tryGroup(g *Group, req *ChatRequest, out *Response, cs *callState) *Error {
	var last *Error
	cs.retries = 0
	var queued time.Duration // waited for a max_parallel_requests slot
	for {
		now := clock.Now(req.AttemptStart)
		d, wait, serr := reg.choose(g, req.Route, cs, now.UnixNano())
		if serr == errAllBusy {
			left := reg.policy.maxRetryWait - queued
			if left <= 0 {
				return busyError(g, queued)
			}
			start := time.Now()
			freed := reg.waitForSlot(req.Cancel, left)
			queued += time.Since(start)
			if req.Cancel.Canceled() {
				return canceledError()
			}
			if !freed {
				return busyError(g, queued)
			}
			continue
		}
		if d == nil {
			if last != nil {
				return last
			}
			if serr != nil {
				if u := firstUnavailable(g); u != nil && serr.Message == u.Unavailable {
					out.Deployment = u
				}
				return serr
			}
			return &Error{Status: 503, Type: "service_unavailable_error", Message: "no deployment left for model " + strconv.Quote(g.Name)}
		}
		if last != nil && cs.retries >= reg.policy.retriesFor(last) {
			return last
		}
		if last == nil && reg.policy.numRetries == 0 {
			// Waiting belongs to retrying: with retries off a call
			// never waits, not even for another call's Retry-After.
			wait = 0
		}
		if wait > 0 {
			// A backoff, or a Retry-After the deployment gave (even a
			// first attempt honours it: the upstream asked not to be
			// called before then).
			if cs.waited+wait > reg.policy.maxRetryWait {
				if last != nil {
					return last
				}
				return waitError(g, wait)
			}
			if !sleep(req.Cancel, wait, &out.BackoffWait) {
				return canceledError()
			}
			cs.waited += wait
			now = time.Now()
		}
		if req.Cancel.Canceled() {
			return canceledError()
		}
		if !reg.takeSlot(d, out) {
			continue // another call took d's last slot: choose again
		}
		if last != nil {
			cs.retries++
		}
		err := reg.run(d, g, req, out, cs, now)
		if err == nil {
			return nil
		}
		last = err
		if req.Cancel.Canceled() || err.Status == 499 {
			return err
		}
	}
}

// run makes one attempt on d and records its outcome in d's health.
func (reg *Registry) run(d *Deployment, g *Group, req *ChatRequest, out *Response, cs *callState, start time.Time) *Error {
	out.Attempts++
	reg.observeAttempt(d, out.Attempts > 1)
	out.Deployment = d
	out.UpResp = nil // headers of a failed attempt are not relayed
	out.Stream = nil
	out.ReadAt = time.Time{} // the answering attempt's reads only
	cs.note(d)
	tokens := int64(len(req.Body)/4 + 1)
	d.health.use(start.UnixNano(), tokens)
	req.AttemptStart = start
	if req.Tracer != nil {
		req.Traceparent, req.Tracestate = req.Tracer.StartAttempt(&d.Endpoint, out.Attempts, out.Attempts > 1)
	}
	d.health.inflight.Add(1)
	var err *Error
	if d.catchAll == nil {
		err = reg.attempt(d, g, req, out, d.attemptModel(g, req))
	} else {
		err = reg.attemptCatchAll(d, g, req, out)
	}
	d.health.inflight.Add(-1)
	if req.Tracer != nil {
		req.Tracer.EndAttempt(err, err == nil && out.Stream != nil)
	}
	if err != nil || out.Stream == nil {
		// Nothing of d is in use any more (a stream keeps its slot
		// until its Response is released).
		out.freeSlot()
	}
	end := clock.Now(start)
	if err == nil || err.Status != 499 && !req.Cancel.Canceled() {
		d.health.noteStreak(err)
	}
	if err == nil {
		d.health.observe(end.Sub(start))
		if out.Stream == nil && out.Usage.Reported {
			// The answer's own count replaces the estimate.
			d.health.addTokens(end.UnixNano(), int64(out.Usage.PromptTokens+out.Usage.CompletionTokens)-tokens)
		}
		return nil
	}
	if err.Status == 499 || req.Cancel.Canceled() {
		return err
	}
	now := end.UnixNano()
	if ra := retryAfterDuration(err.RetryAfter, end); ra > 0 {
		d.health.retryAfter(now, ra)
	}
	reg.noteFailure(d, g, req.Route, err, now)
	return err
}

// waitError is the answer when the only deployments left asked (with
// Retry-After) not to be called for longer than the call may wait.
func waitError(g *Group, wait time.Duration) *Error {
	secs := int64(math.Ceil(wait.Seconds()))
	return &Error{Status: 429, Type: "rate_limit_error", Code: "rate_limit_exceeded",
		RetryAfter: strconv.AppendInt(nil, max(secs, 1), 10),
		Message:    "every deployment of model " + strconv.Quote(g.Name) + " asked to be called again in " + strconv.FormatInt(max(secs, 1), 10) + "s"}
}

func firstUnavailable(g *Group) *Deployment {
	for _, d := range g.Deployments {
		if d.Unavailable != "" {
			return d
		}
	}
	return nil
}

func canceledError() *Error {
	return &Error{Status: 499, Type: "api_error", Code: "client_closed_request", Message: ErrCanceled.Error()}
}

// sleep waits d or until the call is canceled, adding the time it
// waited to *waited; false means canceled.
func sleep(c *Cancel, d time.Duration, waited *time.Duration) bool {
	if c.Canceled() {
		return false
	}
	start := time.Now()
	defer func() { *waited += time.Since(start) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return !c.Canceled()
	case <-c.Done():
		return false
	}
}

// classify maps a failure to its retry_policy class.
func classify(e *Error) errClass {
	switch {
	case e.Code == "upstream_redirect":
		// llmedge's own refusal: the same redirect comes again.
		return classOther
	case e.Status == 408 || e.Code == "upstream_timeout":
		return classTimeout
	case e.Status == 429:
		return classRateLimit
	case e.Status == 401 || e.Status == 403:
		return classAuth
	case e.Status >= 500:
		return classInternal
	case isContentPolicy(e):
		return classContentPolicy
	case e.Status == 400 || e.Status == 413 || e.Status == 422:
		return classBadRequest
	}
	return classOther
}

// retriesFor is how many retries a failure like e gets: retry_policy
// for its class when set, else num_retries for the transient classes
// (timeouts, rate limits, server and connection errors) and none for
// the rest (a bad request or a bad key fails the same way again).
func (p *policy) retriesFor(e *Error) int {
	c := classify(e)
	if n := p.retryPolicy[c]; n >= 0 {
		return n
	}
	if e.Retryable {
		return p.numRetries
	}
	return 0
}

// retryAfterDuration parses a Retry-After value: seconds (a fraction
// allowed) or an HTTP date. 0 when absent or unparsable.
func retryAfterDuration(v []byte, now time.Time) time.Duration {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return 0
	}
	if f, err := strconv.ParseFloat(string(v), 64); err == nil {
		if f <= 0 || math.IsNaN(f) || f > 1e7 {
			return 0
		}
		return time.Duration(f * float64(time.Second))
	}
	if t, err := http.ParseTime(string(v)); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// clientRetryAfter rewrites a fractional Retry-After as whole seconds
// (rounded up) for the client: the header's standard form.
func clientRetryAfter(v []byte) []byte {
	if len(v) == 0 || bytes.IndexByte(v, '.') < 0 {
		return v
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return v
	}
	return strconv.AppendInt(nil, int64(math.Ceil(f)), 10)
}
