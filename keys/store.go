package keys

import (
	"context"
	"errors"
	"time"
)

// Kind says what a record is.
type Kind uint8

// Record kinds, as stored (the numbers are in the schema: never reuse).
const (
	KindKey  Kind = 1
	KindUser Kind = 2
	KindTeam Kind = 3
)

func (k Kind) String() string {
	switch k {
	case KindKey:
		return "key"
	case KindUser:
		return "user"
	case KindTeam:
		return "team"
	}
	return "record"
}

// Row is one stored record: its JSON document, and its spend and budget
// reset time kept in columns of their own (so spend is added without
// rewriting the document). ResetAt is Unix milliseconds, 0 = none.
type Row struct {
	Kind    Kind
	ID      string
	Data    []byte
	Spend   float64
	ResetAt int64
}

// Delta is spend to add to one record.
type Delta struct {
	Kind  Kind
	ID    string
	Spend float64
}

// SpendFilter selects spend logs; empty fields select all.
type SpendFilter struct {
	APIKey, UserID, TeamID, RequestID string
	Start, End                        time.Time
	Limit                             int
}

// Store is where keys, users, teams and spend live. Every method is
// one round trip or one transaction; none is called on the request
// path. Management changes (Put, Delete, Rekey, ResetSpend) bump the
// store's version, which replicas poll to reload.
type Store interface {
	// Engine is "sqlite" or "postgres"; Where names the database
	// without any secret (a file path, or host/database).
	Engine() string
	Where() string
	Version(ctx context.Context) (int64, error)
	// Rows returns every record and the version they are at.
	Rows(ctx context.Context) (int64, []Row, error)
	// Spends returns every record with its spend and reset time but no
	// document.
	Spends(ctx context.Context) ([]Row, error)
	// Put writes a record's document and reset time, keeping its spend.
	// With create it fails with ErrExists when the id is taken.
	Put(ctx context.Context, r Row, create bool) error
	// Delete removes records and returns the ids that existed.
	Delete(ctx context.Context, kind Kind, ids []string) ([]string, error)
	// Rekey moves a key's record to a new token, spend included.
	Rekey(ctx context.Context, oldID string, r Row) error
	// ResetSpend sets a record's spend to 0 and its reset time to
	// next, if its reset time is still prev (one replica wins).
	ResetSpend(ctx context.Context, kind Kind, id string, prev, next int64) error
	// AddSpend adds deltas and writes spend logs in one transaction.
	AddSpend(ctx context.Context, d []Delta, logs []SpendLog) error
	SpendLogs(ctx context.Context, f SpendFilter) ([]SpendLog, error)
	Ping(ctx context.Context) error
	Close() error
}

// ErrExists is returned by Put with create when the id is taken.
var ErrExists = errors.New("already exists")

// ErrNotFound is returned for a record that does not exist.
var ErrNotFound = errors.New("not found")
