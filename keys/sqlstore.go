package keys

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"
)

// sqlStore is the Store over database/sql; the engines differ only in
// driver, placeholders and the migration lock (open.go).
type sqlStore struct {
	db     *sql.DB
	engine string
	where  string
	pg     bool
}

// q rewrites ? placeholders as $1, $2, ... for PostgreSQL.
func (s *sqlStore) q(query string) string {
	if !s.pg {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

func (s *sqlStore) Engine() string { return s.engine }
func (s *sqlStore) Where() string  { return s.where }
func (s *sqlStore) Close() error   { return s.db.Close() }

func (s *sqlStore) Ping(ctx context.Context) error {
	var one int
	return s.db.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

func (s *sqlStore) Version(ctx context.Context) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, `SELECT version FROM llmedge_version WHERE id = 1`).Scan(&v)
	return v, err
}

func (s *sqlStore) Rows(ctx context.Context) (int64, []Row, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: s.pg})
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = tx.Rollback() }()
	var v int64
	if err := tx.QueryRowContext(ctx, `SELECT version FROM llmedge_version WHERE id = 1`).Scan(&v); err != nil {
		return 0, nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT kind, id, data, spend, budget_reset_at FROM llmedge_records`)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		var data string
		if err := rows.Scan(&r.Kind, &r.ID, &data, &r.Spend, &r.ResetAt); err != nil {
			return 0, nil, err
		}
		r.Data = []byte(data)
		out = append(out, r)
	}
	return v, out, rows.Err()
}

func (s *sqlStore) Spends(ctx context.Context) ([]Row, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT kind, id, spend, budget_reset_at FROM llmedge_records`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		if err := rows.Scan(&r.Kind, &r.ID, &r.Spend, &r.ResetAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// change runs f in a transaction that bumps the version.
func (s *sqlStore) change(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if err := f(tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE llmedge_version SET version = version + 1 WHERE id = 1`); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *sqlStore) Put(ctx context.Context, r Row, create bool) error {
	return s.change(ctx, func(tx *sql.Tx) error {
		if create {
			res, err := tx.ExecContext(ctx, s.q(`INSERT INTO llmedge_records (kind, id, data, budget_reset_at) VALUES (?, ?, ?, ?) ON CONFLICT (kind, id) DO NOTHING`),
				int(r.Kind), r.ID, string(r.Data), r.ResetAt)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return ErrExists
			}
			return nil
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE llmedge_records SET data = ?, budget_reset_at = ? WHERE kind = ? AND id = ?`),
			string(r.Data), r.ResetAt, int(r.Kind), r.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

func (s *sqlStore) Delete(ctx context.Context, kind Kind, ids []string) ([]string, error) {
	var gone []string
	err := s.change(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, s.q(`DELETE FROM llmedge_records WHERE kind = ? AND id = ?`), int(kind), id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				gone = append(gone, id)
			}
		}
		return nil
	})
	return gone, err
}

func (s *sqlStore) Rekey(ctx context.Context, oldID string, r Row) error {
	return s.change(ctx, func(tx *sql.Tx) error {
		var spend float64
		err := tx.QueryRowContext(ctx, s.q(`SELECT spend FROM llmedge_records WHERE kind = ? AND id = ?`), int(KindKey), oldID).Scan(&spend)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM llmedge_records WHERE kind = ? AND id = ?`), int(KindKey), oldID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO llmedge_records (kind, id, data, spend, budget_reset_at) VALUES (?, ?, ?, ?, ?)`),
			int(KindKey), r.ID, string(r.Data), spend, r.ResetAt)
		return err
	})
}

func (s *sqlStore) ResetSpend(ctx context.Context, kind Kind, id string, prev, next int64) error {
	return s.change(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`UPDATE llmedge_records SET spend = 0, budget_reset_at = ? WHERE kind = ? AND id = ? AND budget_reset_at = ?`),
			next, int(kind), id, prev)
		return err
	})
}

func (s *sqlStore) AddSpend(ctx context.Context, d []Delta, logs []SpendLog) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for _, x := range d {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE llmedge_records SET spend = spend + ? WHERE kind = ? AND id = ?`), x.Spend, int(x.Kind), x.ID); err != nil {
			return err
		}
	}
	for len(logs) > 0 {
		n := min(len(logs), spendLogsPerInsert)
		if err := s.insertSpendLogs(ctx, tx, logs[:n]); err != nil {
			return err
		}
		logs = logs[n:]
	}
	return tx.Commit()
}

// spendLogsPerInsert bounds the rows of one INSERT: 10 parameters a row
// keeps a statement far below SQLite's 32766 and PostgreSQL's 65535.
const spendLogsPerInsert = 500

// insertSpendLogs writes logs with one multi-row INSERT: a batch of
// spend logs is one round trip, not one per request.
func (s *sqlStore) insertSpendLogs(ctx context.Context, tx *sql.Tx, logs []SpendLog) error {
	var b strings.Builder
	b.WriteString(`INSERT INTO llmedge_spend_logs (request_id, api_key, model, spend, prompt_tokens, completion_tokens, start_ms, end_ms, user_id, team_id) VALUES `)
	args := make([]any, 0, 10*len(logs))
	for i := range logs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		l := &logs[i]
		args = append(args, l.RequestID, l.APIKey, l.Model, l.Spend, l.PromptTokens, l.CompletionTokens, l.StartTime.UnixMilli(), l.EndTime.UnixMilli(), l.User, l.TeamID)
	}
	_, err := tx.ExecContext(ctx, s.q(b.String()), args...)
	return err
}

func (s *sqlStore) SpendLogs(ctx context.Context, f SpendFilter) ([]SpendLog, error) {
	query := `SELECT request_id, api_key, model, spend, prompt_tokens, completion_tokens, start_ms, end_ms, user_id, team_id FROM llmedge_spend_logs WHERE 1 = 1`
	var args []any
	for _, c := range []struct{ col, v string }{{"api_key", f.APIKey}, {"user_id", f.UserID}, {"team_id", f.TeamID}, {"request_id", f.RequestID}} {
		if c.v != "" {
			query += ` AND ` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	if !f.Start.IsZero() {
		query += ` AND start_ms >= ?`
		args = append(args, f.Start.UnixMilli())
	}
	if !f.End.IsZero() {
		query += ` AND start_ms < ?`
		args = append(args, f.End.UnixMilli())
	}
	limit := f.Limit
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	query += ` ORDER BY start_ms DESC LIMIT ` + strconv.Itoa(limit)
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []SpendLog{}
	for rows.Next() {
		var l SpendLog
		var st, en int64
		if err := rows.Scan(&l.RequestID, &l.APIKey, &l.Model, &l.Spend, &l.PromptTokens, &l.CompletionTokens, &st, &en, &l.User, &l.TeamID); err != nil {
			return nil, err
		}
		l.StartTime, l.EndTime = time.UnixMilli(st).UTC(), time.UnixMilli(en).UTC()
		l.TotalTokens = l.PromptTokens + l.CompletionTokens
		out = append(out, l)
	}
	return out, rows.Err()
}
