package keys

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/valyala/fasthttp"
)

// tokenOf is the stored token of a key given as its value (sk-...) or
// as its token (hex SHA-256).
func tokenOf(k string) string {
	if _, ok := digestOf(k); ok {
		return k
	}
	return Hash(k)
}

// keyRequest is /key/generate's and /key/update's body: the key's
// fields, plus the key itself and its lifetime.
type keyRequest struct {
	Key      *string `json:"key"`
	Duration *string `json:"duration"`
}

// namedKey reads a body naming a key ("key": value or token) and
// returns a copy of that key, or answers 400/404 and returns nil.
func (a *API) namedKey(ctx *fasthttp.RequestCtx) (*keyRequest, *Key) {
	var r keyRequest
	if !readJSON(ctx, &r) {
		return nil, nil
	}
	if r.Key == nil || *r.Key == "" {
		badField(ctx, "key", "required: the key (sk-...) or its token")
		return nil, nil
	}
	k := a.keyByToken(tokenOf(*r.Key))
	if k == nil {
		fail(ctx, fasthttp.StatusNotFound, "key not found", "key")
		return nil, nil
	}
	return &r, k
}

func (a *API) keyByToken(token string) *Key {
	if e := a.C.state.Load().byToken[token]; e != nil {
		k := *e.Key
		return &k
	}
	return nil
}

// saveKey checks a key's fields and writes it.
func (a *API) saveKey(ctx *fasthttp.RequestCtx, k *Key, dur *string, create bool, oldPeriod *string) bool {
	if f, why := checkLimits(&k.Limits); f != "" {
		badField(ctx, f, why)
		return false
	}
	now := time.Now().UTC()
	if dur != nil && *dur != "" {
		d, err := ParseDuration(*dur)
		if err != nil {
			badField(ctx, "duration", err.Error())
			return false
		}
		exp := now.Add(d)
		k.Expires = &exp
	}
	period(&k.Limits, &k.BudgetResetAt, oldPeriod, now)
	if create {
		k.CreatedAt = now
	}
	k.UpdatedAt = now
	data, _ := json.Marshal(k)
	c, cancel := opCtx()
	defer cancel()
	if err := a.C.store.Put(c, Row{Kind: KindKey, ID: k.Token, Data: data, ResetAt: resetAt(&k.Limits, k.BudgetResetAt)}, create); err != nil {
		a.storeFail(ctx, err)
		return false
	}
	a.changed()
	return true
}

func (a *API) keyGenerate(ctx *fasthttp.RequestCtx) {
	var k Key
	var r keyRequest
	if !readJSON(ctx, &k) || !readJSON(ctx, &r) {
		return
	}
	value := newKeyValue()
	if r.Key != nil {
		if len(*r.Key) < 8 || (*r.Key)[:3] != "sk-" {
			badField(ctx, "key", "a custom key must start with sk- and be at least 8 characters")
			return
		}
		value = *r.Key
	}
	k.Token, k.KeyName, k.Spend, k.Blocked = Hash(value), keyName(value), 0, false
	if !a.saveKey(ctx, &k, r.Duration, true, nil) {
		return
	}
	writeJSON(ctx, keyAnswer(&k, value))
}

// keyAnswer is /key/generate's and /key/regenerate's answer: the key's
// fields with the key itself (shown this once).
func keyAnswer(k *Key, value string) map[string]any {
	b, _ := json.Marshal(k)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["key"], m["token_id"] = value, k.Token
	return m
}

func (a *API) keyUpdate(ctx *fasthttp.RequestCtx) {
	r, k := a.namedKey(ctx)
	if k == nil {
		return
	}
	keep := *k
	var oldPeriod *string
	if k.BudgetDuration != nil {
		p := *k.BudgetDuration
		oldPeriod = &p
	}
	if !readJSON(ctx, k) {
		return
	}
	k.Token, k.KeyName, k.Spend, k.CreatedAt, k.Blocked = keep.Token, keep.KeyName, keep.Spend, keep.CreatedAt, keep.Blocked
	if !a.saveKey(ctx, k, r.Duration, false, oldPeriod) {
		return
	}
	writeJSON(ctx, k)
}

func (a *API) keyDelete(ctx *fasthttp.RequestCtx) {
	var r struct {
		Keys     []string `json:"keys"`
		KeyAlias []string `json:"key_aliases"`
	}
	if !readJSON(ctx, &r) {
		return
	}
	var tokens []string
	for _, k := range r.Keys {
		tokens = append(tokens, tokenOf(k))
	}
	for _, alias := range r.KeyAlias {
		a.C.Entries(func(e *Entry) {
			if e.Key.KeyAlias != nil && *e.Key.KeyAlias == alias {
				tokens = append(tokens, e.Key.Token)
			}
		})
	}
	if len(tokens) == 0 {
		badField(ctx, "keys", "required: a list of keys (sk-...) or tokens")
		return
	}
	c, cancel := opCtx()
	defer cancel()
	gone, err := a.C.store.Delete(c, KindKey, tokens)
	if err != nil {
		a.storeFail(ctx, err)
		return
	}
	a.changed()
	if len(gone) == 0 {
		fail(ctx, fasthttp.StatusNotFound, "none of the keys exist", "keys")
		return
	}
	writeJSON(ctx, map[string]any{"deleted_keys": r.Keys})
}

func (a *API) keyRegenerate(ctx *fasthttp.RequestCtx) {
	_, k := a.namedKey(ctx)
	if k == nil {
		return
	}
	old := k.Token
	if !readJSON(ctx, k) {
		return
	}
	value := newKeyValue()
	k.Token, k.KeyName, k.UpdatedAt = Hash(value), keyName(value), time.Now().UTC()
	if f, why := checkLimits(&k.Limits); f != "" {
		badField(ctx, f, why)
		return
	}
	data, _ := json.Marshal(k)
	c, cancel := opCtx()
	defer cancel()
	if err := a.C.store.Rekey(c, old, Row{Kind: KindKey, ID: k.Token, Data: data, ResetAt: resetAt(&k.Limits, k.BudgetResetAt)}); err != nil {
		a.storeFail(ctx, err)
		return
	}
	a.changed()
	writeJSON(ctx, keyAnswer(k, value))
}

func (a *API) keyBlock(block bool) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		_, k := a.namedKey(ctx)
		if k == nil {
			return
		}
		k.Blocked = block
		if a.saveKey(ctx, k, nil, false, k.BudgetDuration) {
			writeJSON(ctx, k)
		}
	}
}

func (a *API) keyInfo(ctx *fasthttp.RequestCtx) {
	q := queryArg(ctx, "key")
	if q == "" {
		badField(ctx, "key", "required query parameter: ?key=sk-... (or its token)")
		return
	}
	e := a.C.state.Load().byToken[tokenOf(q)]
	if e == nil {
		fail(ctx, fasthttp.StatusNotFound, "key not found", "key")
		return
	}
	info := *e.Key
	info.Spend = e.KeySpend(time.Now().UnixMilli())
	writeJSON(ctx, map[string]any{"key": e.Key.Token, "info": info})
}

func (a *API) keyList(ctx *fasthttp.RequestCtx) {
	user, team := queryArg(ctx, "user_id"), queryArg(ctx, "team_id")
	var list []string
	a.C.Entries(func(e *Entry) {
		if (user == "" || (e.Key.UserID != nil && *e.Key.UserID == user)) && (team == "" || (e.Key.TeamID != nil && *e.Key.TeamID == team)) {
			list = append(list, e.Key.Token)
		}
	})
	sort.Strings(list)
	if list == nil {
		list = []string{}
	}
	writeJSON(ctx, map[string]any{"keys": list, "total_count": len(list), "current_page": 1, "total_pages": 1})
}
