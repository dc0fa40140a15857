package upstream

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/upstream/provider"
)

// ErrNotProbed is Probe's answer for a deployment it cannot probe.
var ErrNotProbed = errors.New("not probed: a wildcard deployment has no model of its own to call (set model_info.health_check_model)")

// Why a probe failed: a fixed set of words (metric label values), never
// upstream text.
const (
	ProbeUnavailable = "unavailable"  // the deployment cannot serve (config, environment): nothing sent
	ProbeTimeout     = "timeout"      // no answer within the probe's timeout
	ProbeUnreachable = "unreachable"  // connection refused or reset, DNS
	ProbeTLS         = "tls"          // a certificate problem
	ProbeProxy       = "proxy"        // the forward proxy refused
	ProbeBadResponse = "bad_response" // an answer llmedge could not read
	ProbeAuth        = "auth"         // 401, 403, or no access token
	ProbeNotFound    = "not_found"    // 404: a wrong base, model or deployment
	ProbeRateLimited = "rate_limited" // 429
	ProbeClientError = "client_error" // another 4xx
	ProbeServerError = "server_error" // 5xx
	ProbeOther       = "other"
)

// How a deployment was probed (ProbeResult.Method).
const (
	ProbeByModels = "models" // a GET of the provider's models (provider.Probe)
	ProbeByCall   = "call"   // a 1-token call
)

// ProbeResult is one health probe's outcome.
type ProbeResult struct {
	// Err is nil when the deployment answered.
	Err error
	// Class says why it failed (a Probe* word; "" when Err is nil or
	// ErrNotProbed).
	Class string
	// Method is how it was probed ("" when nothing was sent).
	Method string
	// Took is the probe's time on the wire.
	Took time.Duration
}

// Probe checks that d answers now, sent to d alone: no retry, no
// fallback, no cooldown or rate-limit accounting. It is what GET
// /health?model= and the background health checks run. It uses the
// cheapest request d's provider has: a GET of its models where one
// proves the address and credentials (provider.Probe), else a call
// asking for one token (model_info.health_check_max_tokens), to the
// route model_info.mode names (embedding: one embedding; completion:
// /completions; else chat). model_info.health_check_timeout replaces
// timeout. A wildcard or catch-all deployment is probed with
// model_info.health_check_model; without it a wildcard deployment whose
// provider lists models gets the list, any other is not probed
// (ErrNotProbed).
func (reg *Registry) Probe(d *Deployment, timeout time.Duration) ProbeResult {
	if ok, why := d.Available(); !ok || d.desc == nil && d.catchAll == nil {
		return ProbeResult{Err: errors.New(why), Class: ProbeUnavailable}
	}
	hc := d.Config.Health
	if hc.Timeout > 0 {
		timeout = hc.Timeout
	}
	target, part, upstreamID, res := d.probeTarget(hc.Model)
	if res != nil {
		return *res
	}
	req := &ChatRequest{Cancel: &Cancel{}, RequestID: []byte("llmedge-health-probe")}
	t := time.AfterFunc(timeout, req.Cancel.Cancel)
	defer t.Stop()
	out := AcquireResponse()
	defer ReleaseResponse(out)
	r := ProbeResult{Method: ProbeByModels}
	start := time.Now()
	var e *Error
	if p := target.desc.Probe; p != nil {
		if e = p(&target.Endpoint, out.Request(), upstreamID); e == nil {
			e = provider.SendProbe(&target.Endpoint, req, &out.Answer)
		}
	} else {
		r.Method = ProbeByCall
		name := d.ModelName
		if hc.Model != "" {
			name = hc.Model
		}
		probeBody(req, target, name, hc.MaxTokens)
		if e = target.routeError(req.Route); e == nil {
			e = target.desc.Attempt(&target.Endpoint, withDefaults(target, req, out), part, &out.Answer)
		}
		if e == nil && out.StatusCode >= 300 {
			e = &Error{Status: out.StatusCode, Message: "upstream answered " + strconv.Itoa(out.StatusCode)}
		}
	}
	r.Took = time.Since(start)
	if e != nil {
		r.Err, r.Class = e, probeClass(e)
		if req.Cancel.Canceled() {
			r.Err, r.Class = errors.New("no answer within "+timeout.String()), ProbeTimeout
		}
	}
	return r
}

// probeTarget is the deployment a probe of d goes to, the model part its
// wildcard sees, and the upstream model id the probe names; or the
// result when d cannot be probed.
func (d *Deployment) probeTarget(hcModel string) (target *Deployment, part []byte, upstreamID string, res *ProbeResult) {
	switch {
	case d.catchAll != nil:
		if hcModel == "" {
			return nil, nil, "", &ProbeResult{Err: ErrNotProbed}
		}
		sd, m, e := d.catchAll.pick(d, []byte(hcModel))
		if e == nil && sd.Unavailable != "" {
			e = &Error{Status: sd.UnavailableStatus, Message: sd.Unavailable}
		}
		if e != nil {
			return nil, nil, "", &ProbeResult{Err: e, Class: ProbeUnavailable}
		}
		return sd, m, string(m), nil
	case d.Wildcard:
		if hcModel == "" {
			if d.desc.Probe == nil {
				return nil, nil, "", &ProbeResult{Err: ErrNotProbed}
			}
			return d, nil, "", nil
		}
		_, up := config.SplitModel(hcModel)
		prefix := strings.TrimSuffix(d.Config.UpstreamModel, "*")
		p := strings.TrimPrefix(up, prefix)
		return d, []byte(p), prefix + p, nil
	}
	return d, []byte(d.ModelName), d.Config.UpstreamModel, nil
}

// probeBody sets req's route and body for a call probe of d: one token
// (or maxTokens) of chat or completion, or one embedding, as
// model_info.mode says.
func probeBody(req *ChatRequest, d *Deployment, model string, maxTokens int) {
	if maxTokens <= 0 {
		maxTokens = 1
	}
	body := []byte(`{"model":`)
	req.ModelStart = len(body)
	body = jsonx.AppendString(body, model)
	req.ModelEnd = len(body)
	switch d.mode {
	case "embedding":
		req.Route = RouteEmbeddings
		body = append(body, `,"input":"ping"}`...)
	case "completion":
		req.Route = RouteCompletions
		body = append(body, `,"prompt":"ping","max_tokens":`...)
		body = append(strconv.AppendInt(body, int64(maxTokens), 10), '}')
	default:
		body = append(body, `,"messages":[{"role":"user","content":"ping"}],"max_tokens":`...)
		body = append(strconv.AppendInt(body, int64(maxTokens), 10), '}')
	}
	req.Body, req.Model = body, []byte(model)
}

// probeClass is why a probe failed, as one of the Probe* words.
func probeClass(e *Error) string {
	switch e.Code {
	case "upstream_timeout":
		return ProbeTimeout
	case "upstream_unavailable":
		return ProbeUnreachable
	case "upstream_certificate_error":
		return ProbeTLS
	case "proxy_error", "proxy_authentication_required":
		return ProbeProxy
	case "upstream_bad_response", "upstream_redirect", "upstream_response_too_large", "upstream_empty_stream":
		return ProbeBadResponse
	case "upstream_auth_failed":
		return ProbeAuth
	}
	switch s := e.Status; {
	case s == 401 || s == 403:
		return ProbeAuth
	case s == 404:
		return ProbeNotFound
	case s == 429:
		return ProbeRateLimited
	case s == 408:
		return ProbeTimeout
	case s >= 400 && s < 500:
		return ProbeClientError
	case s >= 500:
		return ProbeServerError
	}
	return ProbeOther
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
