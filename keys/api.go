package keys

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/llmedge/llmedge/internal/errbody"
	"github.com/valyala/fasthttp"
)

// API serves LiteLLM's management routes on the cache's store. The
// caller guards them with the master key. Every change is written to
// the store first and the cache reloaded right after, so the change is
// in force here at once and on other replicas within PollInterval.
type API struct{ C *Cache }

// Routes maps each management route to its handler (method, path).
func (a *API) Routes() []struct {
	Method, Path string
	H            fasthttp.RequestHandler
} {
	type rt = struct {
		Method, Path string
		H            fasthttp.RequestHandler
	}
	return []rt{
		{"POST", "/key/generate", a.keyGenerate}, {"POST", "/key/update", a.keyUpdate},
		{"POST", "/key/delete", a.keyDelete}, {"POST", "/key/regenerate", a.keyRegenerate},
		{"POST", "/key/block", a.keyBlock(true)}, {"POST", "/key/unblock", a.keyBlock(false)},
		{"GET", "/key/info", a.keyInfo}, {"GET", "/key/list", a.keyList},
		{"POST", "/user/new", a.userNew}, {"GET", "/user/info", a.userInfo},
		{"POST", "/user/update", a.userUpdate}, {"POST", "/user/delete", a.userDelete},
		{"POST", "/team/new", a.teamNew}, {"GET", "/team/info", a.teamInfo},
		{"POST", "/team/update", a.teamUpdate}, {"POST", "/team/delete", a.teamDelete},
		{"POST", "/team/member_add", a.teamMemberAdd},
		{"GET", "/spend/logs", a.spendLogs},
	}
}

func fail(ctx *fasthttp.RequestCtx, status int, msg, param string) {
	typ := "invalid_request_error"
	switch status {
	case fasthttp.StatusNotFound:
		typ = "not_found_error"
	case fasthttp.StatusServiceUnavailable:
		typ = "service_unavailable"
	}
	ctx.Response.Header.SetContentType("application/json")
	ctx.SetStatusCode(status)
	ctx.SetBody(errbody.AppendOpenAI(nil, msg, typ, param, ""))
}

// storeFail answers a store error: the database being unreachable is a
// 503 naming it; the error text (which may carry driver detail) is not
// sent.
func (a *API) storeFail(ctx *fasthttp.RequestCtx, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		fail(ctx, fasthttp.StatusNotFound, "not found", "")
	case errors.Is(err, ErrExists):
		fail(ctx, fasthttp.StatusBadRequest, "already exists", "")
	default:
		a.C.setUp(err)
		fail(ctx, fasthttp.StatusServiceUnavailable, "the key database ("+a.C.store.Engine()+") is unreachable: management calls fail until it answers; requests with cached keys are still served", "")
	}
}

func writeJSON(ctx *fasthttp.RequestCtx, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fail(ctx, fasthttp.StatusInternalServerError, "encoding the answer: "+err.Error(), "")
		return
	}
	ctx.Response.Header.SetContentType("application/json")
	ctx.SetBody(b)
}

func readJSON(ctx *fasthttp.RequestCtx, v any) bool {
	body := ctx.PostBody()
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		fail(ctx, fasthttp.StatusBadRequest, "request body: "+err.Error(), "")
		return false
	}
	return true
}

func opCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), opTimeout)
}

// changed reloads the cache after a change made here.
func (a *API) changed() {
	ctx, cancel := opCtx()
	defer cancel()
	if err := a.C.poll(ctx); err != nil {
		a.C.Kick()
	}
}

// newKeyValue is a fresh key: "sk-" and 24 random bytes, base64url.
func newKeyValue() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "sk-" + base64.RawURLEncoding.EncodeToString(b[:])
}

// checkLimits validates the fields every record shares; it returns the
// bad field's name and why.
func checkLimits(l *Limits) (string, string) {
	if l.MaxBudget != nil && *l.MaxBudget < 0 {
		return "max_budget", "must be 0 or more"
	}
	if l.SoftBudget != nil && *l.SoftBudget < 0 {
		return "soft_budget", "must be 0 or more"
	}
	for _, x := range []struct {
		name string
		v    *int64
	}{{"tpm_limit", l.TPMLimit}, {"rpm_limit", l.RPMLimit}, {"max_parallel_requests", l.MaxParallel}} {
		if x.v != nil && *x.v < 0 {
			return x.name, "must be 0 or more"
		}
	}
	if l.BudgetDuration != nil && *l.BudgetDuration != "" {
		if _, err := ParseDuration(*l.BudgetDuration); err != nil {
			return "budget_duration", err.Error()
		}
	}
	return "", ""
}

func badField(ctx *fasthttp.RequestCtx, field, why string) {
	fail(ctx, fasthttp.StatusBadRequest, field+": "+why, field)
}

// resetAt is the stored period end for a record (0 = no period).
func resetAt(l *Limits, at *time.Time) int64 {
	if at == nil {
		return 0
	}
	_ = l
	return at.UnixMilli()
}

// period sets a record's budget_reset_at from its budget_duration when
// it changed (or is new).
func period(l *Limits, at **time.Time, old *string, now time.Time) {
	if l.BudgetDuration == nil || *l.BudgetDuration == "" {
		*at = nil
		return
	}
	if *at != nil && old != nil && *old == *l.BudgetDuration {
		return
	}
	t := time.UnixMilli(NextReset(l.BudgetDuration, now)).UTC()
	*at = &t
}

func queryArg(ctx *fasthttp.RequestCtx, name string) string {
	return strings.TrimSpace(string(ctx.QueryArgs().Peek(name)))
}
