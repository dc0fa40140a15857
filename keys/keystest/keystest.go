// Package keystest opens real databases for tests of the keys store:
// an embedded SQLite file in a temporary directory always, and a fresh
// PostgreSQL database on the server LLMEDGE_TEST_POSTGRES names (skipped
// without it, unless CI is set: then the test fails). It must not be
// imported by the product.
package keystest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Engines lists the engines a test runs on.
var Engines = []string{"sqlite", "postgres"}

// URL returns a database_url for a new, empty database of engine.
func URL(t testing.TB, engine string) string {
	t.Helper()
	if engine == "sqlite" {
		return "sqlite:///" + filepath.Join(t.TempDir(), "llmedge.db")
	}
	base := os.Getenv("LLMEDGE_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("LLMEDGE_TEST_POSTGRES is unset under CI: .ci/run starts PostgreSQL (.ci/postgres.sh)")
		}
		t.Skip("LLMEDGE_TEST_POSTGRES unset: start one with .ci/postgres.sh")
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	name := "llmedge_test_" + hex.EncodeToString(rnd[:])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to LLMEDGE_TEST_POSTGRES: %v", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, base); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			_ = c.Close(ctx)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
