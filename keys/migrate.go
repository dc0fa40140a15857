package keys

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// migrations are the schema's versions, applied in order at startup
// and recorded in llmedge_schema_migrations. Never edit one that has
// shipped: add the next. Both engines run the same SQL (types that
// SQLite and PostgreSQL both accept).
var migrations = []string{
	// 1: records (keys, users, teams) as JSON documents with spend in
	// a column; the change version replicas poll; spend logs.
	`CREATE TABLE llmedge_records (
		kind SMALLINT NOT NULL,
		id TEXT NOT NULL,
		data TEXT NOT NULL,
		spend DOUBLE PRECISION NOT NULL DEFAULT 0,
		budget_reset_at BIGINT NOT NULL DEFAULT 0,
		PRIMARY KEY (kind, id));
	CREATE TABLE llmedge_version (id SMALLINT PRIMARY KEY, version BIGINT NOT NULL);
	INSERT INTO llmedge_version (id, version) VALUES (1, 1);
	CREATE TABLE llmedge_spend_logs (
		request_id TEXT NOT NULL,
		api_key TEXT NOT NULL,
		model TEXT NOT NULL,
		spend DOUBLE PRECISION NOT NULL,
		prompt_tokens BIGINT NOT NULL,
		completion_tokens BIGINT NOT NULL,
		start_ms BIGINT NOT NULL,
		end_ms BIGINT NOT NULL,
		user_id TEXT NOT NULL,
		team_id TEXT NOT NULL);
	CREATE INDEX llmedge_spend_logs_key ON llmedge_spend_logs (api_key, start_ms);
	CREATE INDEX llmedge_spend_logs_start ON llmedge_spend_logs (start_ms)`,
}

// migrate brings the schema to the latest version in one transaction;
// lock serialises gateways starting together on one database (a
// PostgreSQL advisory lock; SQLite's write transaction already is one).
func migrate(ctx context.Context, db *sql.DB, q func(string) string, lock string) (from, to int, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = tx.Rollback() }()
	if lock != "" {
		if _, err := tx.ExecContext(ctx, lock); err != nil {
			return 0, 0, err
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS llmedge_schema_migrations (version INTEGER PRIMARY KEY, applied_ms BIGINT NOT NULL)`); err != nil {
		return 0, 0, err
	}
	var cur sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM llmedge_schema_migrations`).Scan(&cur); err != nil {
		return 0, 0, err
	}
	from = int(cur.Int64)
	if from > len(migrations) {
		return from, from, fmt.Errorf("database schema is at version %d, newer than this llmedge knows (%d): run a newer llmedge", from, len(migrations))
	}
	for v := from + 1; v <= len(migrations); v++ {
		for _, stmt := range splitSQL(migrations[v-1]) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return from, v - 1, fmt.Errorf("schema migration %d: %w", v, err)
			}
		}
		if _, err := tx.ExecContext(ctx, q(`INSERT INTO llmedge_schema_migrations (version, applied_ms) VALUES (?, ?)`), v, time.Now().UnixMilli()); err != nil {
			return from, v - 1, err
		}
	}
	return from, len(migrations), tx.Commit()
}

// splitSQL splits a migration at semicolons (migrations hold no
// string literal with one).
func splitSQL(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ';' {
			if stmt := strings.TrimSpace(s[start:i]); stmt != "" {
				out = append(out, stmt)
			}
			start = i + 1
		}
	}
	return out
}
