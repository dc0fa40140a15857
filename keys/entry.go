package keys

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Entry is a key as the request path sees it: its record, its user's
// and team's, and their spend counters. Entries are immutable; a reload
// builds new ones (with the same counters).
type Entry struct {
	Key    *Key
	Digest [sha256.Size]byte
	User   *User // nil when the key has no user_id or the user is unknown
	Team   *Team
	// Models the key may use (the key's list, else its team's; empty =
	// all).
	Models []string
	// Limits in force: the key's, each unset one taken from its team.
	RPM, TPM, Parallel int64

	expiresMs              int64
	blocked                string // why the key cannot be used, "" when it can
	key, user, team        *counter
	maxKey, maxUser, maxTm float64 // < 0: no budget
}

// KeySpend is the key's spend in its current budget period
// (x-litellm-key-spend).
func (e *Entry) KeySpend(nowMs int64) float64 { return e.key.spend(nowMs) }

// Usable returns why the key cannot be used now ("" when it can):
// blocked, its team blocked, or expired.
func (e *Entry) Usable(nowMs int64) string {
	if e.blocked != "" {
		return e.blocked
	}
	if e.expiresMs != 0 && nowMs >= e.expiresMs {
		return "Authentication Error - Expired Key. Key Expiry time " + e.Key.Expires.UTC().Format("2006-01-02T15:04:05Z")
	}
	return ""
}

// OverBudget returns LiteLLM's budget error message naming the budget
// exceeded (the key's, its user's or its team's), or "" when every
// budget has room. It allocates only when a budget is exceeded.
func (e *Entry) OverBudget(nowMs int64) string {
	if e.maxKey >= 0 {
		e.key.touch(nowMs)
		if s := e.key.spend(nowMs); s >= e.maxKey {
			return "Budget has been exceeded! Key=" + e.Key.KeyName + " Current cost: " + money(s) + ", Max budget: " + money(e.maxKey)
		}
	}
	if e.maxUser >= 0 {
		e.user.touch(nowMs)
		if s := e.user.spend(nowMs); s >= e.maxUser {
			return "Budget has been exceeded! User=" + e.User.UserID + " Current cost: " + money(s) + ", Max budget: " + money(e.maxUser)
		}
	}
	if e.maxTm >= 0 {
		e.team.touch(nowMs)
		if s := e.team.spend(nowMs); s >= e.maxTm {
			return "Budget has been exceeded! Team=" + e.Team.TeamID + " Current cost: " + money(s) + ", Max budget: " + money(e.maxTm)
		}
	}
	return ""
}

func money(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// digestOf decodes a stored token (hex SHA-256).
func digestOf(token string) (d [sha256.Size]byte, ok bool) {
	if len(token) != 2*sha256.Size {
		return d, false
	}
	_, err := hex.Decode(d[:], []byte(token))
	return d, err == nil
}

func budget(l *Limits) float64 {
	if l == nil || l.MaxBudget == nil {
		return -1
	}
	return *l.MaxBudget
}

func orInt(v *int64, fallback *int64) int64 {
	if v != nil {
		return *v
	}
	if fallback != nil {
		return *fallback
	}
	return 0
}
