package keys

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite" (pure Go)
)

// DefaultSQLitePath is the embedded database's file when database_url
// is unset: in the working directory (the container image's is a
// declared volume).
const DefaultSQLitePath = "llmedge.db"

// Open connects to database_url and migrates its schema: postgres:// or
// postgresql:// → PostgreSQL; sqlite:///path (SQLAlchemy's form: three
// slashes then a relative path, four for an absolute one) or "" → an
// embedded SQLite file, created when missing. Errors never quote the
// URL (it may hold a password).
func Open(ctx context.Context, databaseURL string) (Store, error) {
	switch {
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		return openPostgres(ctx, databaseURL)
	case databaseURL == "":
		return openSQLite(ctx, DefaultSQLitePath)
	case strings.HasPrefix(databaseURL, "sqlite:///"):
		p := strings.TrimPrefix(databaseURL, "sqlite:///")
		if p == "" {
			return nil, errors.New("sqlite:/// needs a file path (sqlite:///llmedge.db, sqlite:////var/lib/llmedge/llmedge.db)")
		}
		return openSQLite(ctx, p)
	}
	return nil, errors.New("unsupported scheme: want postgresql://user:pass@host:5432/db or sqlite:///path/to/file.db")
}

func openSQLite(ctx context.Context, path string) (Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, err
	}
	// WAL: readers do not block the writer; immediate transactions
	// take the write lock at BEGIN, so two writers wait (busy_timeout)
	// instead of failing on an upgrade deadlock.
	dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?_txlock=immediate&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	s := &sqlStore{db: db, engine: "sqlite", where: abs}
	if _, _, err := migrate(ctx, db, s.q, ""); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

func openPostgres(ctx context.Context, dsn string) (Store, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, errors.New("not a valid postgresql:// URL")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, errors.New("not a valid postgresql:// URL")
	}
	db.SetMaxOpenConns(8)
	db.SetConnMaxIdleTime(time.Minute)
	s := &sqlStore{db: db, engine: "postgres", where: u.Host + u.Path, pg: true}
	// One gateway migrates at a time: the others wait for the lock
	// and find the schema current.
	if _, _, err := migrate(ctx, db, s.q, `SELECT pg_advisory_xact_lock(7412509183)`); err != nil {
		_ = db.Close()
		return nil, scrubURL(err, dsn)
	}
	return s, nil
}

// scrubURL removes the URL's password from a driver error.
func scrubURL(err error, dsn string) error {
	u, perr := url.Parse(dsn)
	if perr != nil || u.User == nil {
		return err
	}
	msg := err.Error()
	if p, ok := u.User.Password(); ok && p != "" {
		msg = strings.ReplaceAll(msg, p, "***")
	}
	return errors.New(msg)
}
