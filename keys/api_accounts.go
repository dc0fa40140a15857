package keys

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// saveRecord checks a user's or team's limits and writes its document.
func (a *API) saveRecord(ctx *fasthttp.RequestCtx, kind Kind, id string, l *Limits, at **time.Time, oldPeriod *string, doc any, create bool) bool {
	if f, why := checkLimits(l); f != "" {
		badField(ctx, f, why)
		return false
	}
	period(l, at, oldPeriod, time.Now().UTC())
	data, _ := json.Marshal(doc)
	c, cancel := opCtx()
	defer cancel()
	if err := a.C.store.Put(c, Row{Kind: kind, ID: id, Data: data, ResetAt: resetAt(l, *at)}, create); err != nil {
		if err == ErrExists {
			badField(ctx, kind.String()+"_id", id+" already exists")
			return false
		}
		a.storeFail(ctx, err)
		return false
	}
	a.changed()
	return true
}

func copyPeriod(p *string) *string {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func (a *API) userNew(ctx *fasthttp.RequestCtx) {
	var u User
	if !readJSON(ctx, &u) {
		return
	}
	if u.UserID == "" {
		u.UserID = "user-" + strings.TrimPrefix(newKeyValue(), "sk-")[:16]
	}
	now := time.Now().UTC()
	u.Spend, u.CreatedAt, u.UpdatedAt = 0, now, now
	if !a.saveRecord(ctx, KindUser, u.UserID, &u.Limits, &u.BudgetResetAt, nil, &u, true) {
		return
	}
	// LiteLLM's /user/new also issues the user a key.
	value := newKeyValue()
	k := Key{Token: Hash(value), KeyName: keyName(value), UserID: &u.UserID, Models: u.Models}
	if !a.saveKey(ctx, &k, nil, true, nil) {
		return
	}
	m := keyAnswer(&k, value)
	b, _ := json.Marshal(&u)
	var um map[string]any
	_ = json.Unmarshal(b, &um)
	for f, v := range um {
		m[f] = v
	}
	writeJSON(ctx, m)
}

func (a *API) userByID(ctx *fasthttp.RequestCtx, id string) *User {
	if id == "" {
		badField(ctx, "user_id", "required")
		return nil
	}
	u := a.C.state.Load().users[id]
	if u == nil {
		fail(ctx, fasthttp.StatusNotFound, "user "+id+" not found", "user_id")
		return nil
	}
	c := *u
	return &c
}

func (a *API) userInfo(ctx *fasthttp.RequestCtx) {
	u := a.userByID(ctx, queryArg(ctx, "user_id"))
	if u == nil {
		return
	}
	now := time.Now().UnixMilli()
	if x := a.C.peek(KindUser, u.UserID); x != nil {
		u.Spend = x.spend(now)
	}
	keys := []Key{}
	a.C.Entries(func(e *Entry) {
		if e.Key.UserID != nil && *e.Key.UserID == u.UserID {
			k := *e.Key
			k.Spend = e.KeySpend(now)
			keys = append(keys, k)
		}
	})
	teams := []*Team{}
	for _, t := range a.C.state.Load().teams {
		for _, m := range t.Members {
			if m.UserID == u.UserID {
				teams = append(teams, t)
				break
			}
		}
	}
	writeJSON(ctx, map[string]any{"user_id": u.UserID, "user_info": u, "keys": keys, "teams": teams})
}

func (a *API) userUpdate(ctx *fasthttp.RequestCtx) {
	var r struct {
		UserID string `json:"user_id"`
	}
	if !readJSON(ctx, &r) {
		return
	}
	u := a.userByID(ctx, r.UserID)
	if u == nil {
		return
	}
	keep, old := *u, copyPeriod(u.BudgetDuration)
	if !readJSON(ctx, u) {
		return
	}
	u.UserID, u.Spend, u.CreatedAt, u.UpdatedAt = keep.UserID, keep.Spend, keep.CreatedAt, time.Now().UTC()
	if a.saveRecord(ctx, KindUser, u.UserID, &u.Limits, &u.BudgetResetAt, old, u, false) {
		writeJSON(ctx, u)
	}
}

func (a *API) userDelete(ctx *fasthttp.RequestCtx) {
	var r struct {
		UserIDs []string `json:"user_ids"`
	}
	if !readJSON(ctx, &r) {
		return
	}
	a.deleteRecords(ctx, KindUser, r.UserIDs, "user_ids")
}

func (a *API) deleteRecords(ctx *fasthttp.RequestCtx, kind Kind, ids []string, field string) {
	if len(ids) == 0 {
		badField(ctx, field, "required: a list of ids")
		return
	}
	c, cancel := opCtx()
	defer cancel()
	gone, err := a.C.store.Delete(c, kind, ids)
	if err != nil {
		a.storeFail(ctx, err)
		return
	}
	a.changed()
	if len(gone) == 0 {
		fail(ctx, fasthttp.StatusNotFound, "none of the "+kind.String()+"s exist", field)
		return
	}
	writeJSON(ctx, map[string]any{"deleted_" + field: gone})
}

func (a *API) teamNew(ctx *fasthttp.RequestCtx) {
	var t Team
	if !readJSON(ctx, &t) {
		return
	}
	if t.TeamID == "" {
		t.TeamID = "team-" + strings.TrimPrefix(newKeyValue(), "sk-")[:16]
	}
	if t.Members == nil {
		t.Members = []Member{}
	}
	now := time.Now().UTC()
	t.Spend, t.CreatedAt, t.UpdatedAt = 0, now, now
	if a.saveRecord(ctx, KindTeam, t.TeamID, &t.Limits, &t.BudgetResetAt, nil, &t, true) {
		writeJSON(ctx, &t)
	}
}

func (a *API) teamByID(ctx *fasthttp.RequestCtx, id string) *Team {
	if id == "" {
		badField(ctx, "team_id", "required")
		return nil
	}
	t := a.C.state.Load().teams[id]
	if t == nil {
		fail(ctx, fasthttp.StatusNotFound, "team "+id+" not found", "team_id")
		return nil
	}
	c := *t
	c.Members = append([]Member{}, t.Members...)
	return &c
}

func (a *API) teamInfo(ctx *fasthttp.RequestCtx) {
	t := a.teamByID(ctx, queryArg(ctx, "team_id"))
	if t == nil {
		return
	}
	now := time.Now().UnixMilli()
	if x := a.C.peek(KindTeam, t.TeamID); x != nil {
		t.Spend = x.spend(now)
	}
	keys := []Key{}
	a.C.Entries(func(e *Entry) {
		if e.Key.TeamID != nil && *e.Key.TeamID == t.TeamID {
			k := *e.Key
			k.Spend = e.KeySpend(now)
			keys = append(keys, k)
		}
	})
	writeJSON(ctx, map[string]any{"team_id": t.TeamID, "team_info": t, "keys": keys})
}

func (a *API) teamUpdate(ctx *fasthttp.RequestCtx) {
	var r struct {
		TeamID string `json:"team_id"`
	}
	if !readJSON(ctx, &r) {
		return
	}
	t := a.teamByID(ctx, r.TeamID)
	if t == nil {
		return
	}
	keep, old := *t, copyPeriod(t.BudgetDuration)
	if !readJSON(ctx, t) {
		return
	}
	t.TeamID, t.Spend, t.CreatedAt, t.UpdatedAt = keep.TeamID, keep.Spend, keep.CreatedAt, time.Now().UTC()
	if a.saveRecord(ctx, KindTeam, t.TeamID, &t.Limits, &t.BudgetResetAt, old, t, false) {
		writeJSON(ctx, t)
	}
}

func (a *API) teamDelete(ctx *fasthttp.RequestCtx) {
	var r struct {
		TeamIDs []string `json:"team_ids"`
	}
	if !readJSON(ctx, &r) {
		return
	}
	a.deleteRecords(ctx, KindTeam, r.TeamIDs, "team_ids")
}

// teamMemberAdd takes {"team_id", "member": {...} or [{...}]}.
func (a *API) teamMemberAdd(ctx *fasthttp.RequestCtx) {
	var r struct {
		TeamID string          `json:"team_id"`
		Member json.RawMessage `json:"member"`
	}
	if !readJSON(ctx, &r) {
		return
	}
	t := a.teamByID(ctx, r.TeamID)
	if t == nil {
		return
	}
	var add []Member
	if err := json.Unmarshal(r.Member, &add); err != nil {
		var one Member
		if err := json.Unmarshal(r.Member, &one); err != nil {
			badField(ctx, "member", "want {\"user_id\", \"role\"} or a list of them")
			return
		}
		add = []Member{one}
	}
	for _, m := range add {
		if m.UserID == "" {
			badField(ctx, "member.user_id", "required")
			return
		}
		if m.Role == "" {
			m.Role = "user"
		}
		dup := false
		for _, have := range t.Members {
			dup = dup || have.UserID == m.UserID
		}
		if !dup {
			t.Members = append(t.Members, m)
		}
	}
	t.UpdatedAt = time.Now().UTC()
	if a.saveRecord(ctx, KindTeam, t.TeamID, &t.Limits, &t.BudgetResetAt, copyPeriod(t.BudgetDuration), t, false) {
		writeJSON(ctx, map[string]any{"team_id": t.TeamID, "updated_team": t})
	}
}

func (a *API) spendLogs(ctx *fasthttp.RequestCtx) {
	f := SpendFilter{UserID: queryArg(ctx, "user_id"), TeamID: queryArg(ctx, "team_id"), RequestID: queryArg(ctx, "request_id")}
	if k := queryArg(ctx, "api_key"); k != "" {
		f.APIKey = tokenOf(k)
	}
	for _, d := range []struct {
		name string
		t    *time.Time
	}{{"start_date", &f.Start}, {"end_date", &f.End}} {
		if v := queryArg(ctx, d.name); v != "" {
			t, err := time.Parse("2006-01-02", v)
			if err != nil {
				badField(ctx, d.name, "want YYYY-MM-DD")
				return
			}
			*d.t = t
		}
	}
	if !f.End.IsZero() {
		f.End = f.End.Add(24 * time.Hour) // end_date is inclusive
	}
	c, cancel := opCtx()
	defer cancel()
	logs, err := a.C.store.SpendLogs(c, f)
	if err != nil {
		a.storeFail(ctx, err)
		return
	}
	writeJSON(ctx, logs)
}
