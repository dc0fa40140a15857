package keys

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Limits are a record's budget and rate limits (nil = none). The JSON
// names are LiteLLM's.
type Limits struct {
	MaxBudget      *float64 `json:"max_budget"`
	SoftBudget     *float64 `json:"soft_budget,omitempty"`
	BudgetDuration *string  `json:"budget_duration"`
	TPMLimit       *int64   `json:"tpm_limit"`
	RPMLimit       *int64   `json:"rpm_limit"`
	MaxParallel    *int64   `json:"max_parallel_requests"`
}

// Account is what keys, users and teams share: metadata, budget and
// limits, spend in the current budget period.
type Account struct {
	Metadata map[string]any `json:"metadata"`
	Limits
	Spend         float64    `json:"spend"`
	BudgetResetAt *time.Time `json:"budget_reset_at"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// Key is a virtual key. Token is the hex SHA-256 of the key: the key
// itself is never stored.
type Key struct {
	Token    string     `json:"token"`
	KeyName  string     `json:"key_name"` // "sk-...abcd": enough to recognise it
	KeyAlias *string    `json:"key_alias"`
	Models   []string   `json:"models"`
	Expires  *time.Time `json:"expires"`
	UserID   *string    `json:"user_id"`
	TeamID   *string    `json:"team_id"`
	Blocked  bool       `json:"blocked"`
	Account
}

// User is an internal user: keys with its user_id share its budget.
type User struct {
	UserID    string   `json:"user_id"`
	UserEmail *string  `json:"user_email"`
	UserRole  *string  `json:"user_role"`
	Models    []string `json:"models"`
	Teams     []string `json:"teams"`
	Account
}

// Member is one team member.
type Member struct {
	UserID    string  `json:"user_id"`
	UserEmail *string `json:"user_email,omitempty"`
	Role      string  `json:"role"`
}

// Team groups keys under one budget.
type Team struct {
	TeamID    string   `json:"team_id"`
	TeamAlias *string  `json:"team_alias"`
	Models    []string `json:"models"`
	Members   []Member `json:"members_with_roles"`
	Blocked   bool     `json:"blocked"`
	Account
}

// SpendLog is one answered request's cost (LiteLLM's spend log row).
type SpendLog struct {
	RequestID        string    `json:"request_id"`
	APIKey           string    `json:"api_key"` // the key's token (hash)
	Model            string    `json:"model"`
	Spend            float64   `json:"spend"`
	PromptTokens     int64     `json:"prompt_tokens"`
	CompletionTokens int64     `json:"completion_tokens"`
	TotalTokens      int64     `json:"total_tokens"`
	StartTime        time.Time `json:"startTime"`
	EndTime          time.Time `json:"endTime"`
	User             string    `json:"user"`
	TeamID           string    `json:"team_id"`
}

// Hash is the token a key is stored under: hex SHA-256 of its value.
func Hash(key string) string {
	d := sha256.Sum256([]byte(key))
	return hex.EncodeToString(d[:])
}

// keyName is how a key is shown once its value is gone: its first
// three and last four characters (LiteLLM's "sk-...abcd").
func keyName(key string) string {
	if len(key) < 8 {
		return "sk-..."
	}
	return key[:3] + "..." + key[len(key)-4:]
}

// ParseDuration reads LiteLLM's durations: "30s", "30m", "1h", "30d",
// "2w", "1mo" (30 days). The number must be a positive integer.
func ParseDuration(s string) (time.Duration, error) {
	unit := strings.TrimLeft(s, "0123456789")
	n, err := strconv.ParseInt(s[:len(s)-len(unit)], 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("duration " + strconv.Quote(s) + ": want a positive whole number and a unit s, m, h, d, w or mo (e.g. 30s, 1h, 30d)")
	}
	var u time.Duration
	switch unit {
	case "s":
		u = time.Second
	case "m":
		u = time.Minute
	case "h":
		u = time.Hour
	case "d":
		u = 24 * time.Hour
	case "w":
		u = 7 * 24 * time.Hour
	case "mo":
		u = 30 * 24 * time.Hour
	default:
		return 0, errors.New("duration " + strconv.Quote(s) + ": unknown unit " + strconv.Quote(unit) + " (known: s, m, h, d, w, mo)")
	}
	if n > int64(100*365*24*time.Hour/u) {
		return 0, errors.New("duration " + strconv.Quote(s) + ": longer than 100 years")
	}
	return time.Duration(n) * u, nil
}
