package keys

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// pollCounter counts the cache loop's polling queries.
type pollCounter struct {
	Store
	versions, spends atomic.Int64
}

func (s *pollCounter) Version(ctx context.Context) (int64, error) {
	s.versions.Add(1)
	return s.Store.Version(ctx)
}

func (s *pollCounter) Spends(ctx context.Context) ([]Row, error) {
	s.spends.Add(1)
	return s.Store.Spends(ctx)
}

// TestIdlePollSkipsSpendWithoutRecords: an empty database (the embedded
// default with only a master key) is polled for its version alone; once
// it holds a record, the record's spend is polled too.
func TestIdlePollSkipsSpendWithoutRecords(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := Open(ctx, "sqlite:///"+filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pc := &pollCounter{Store: st}
	c, err := NewCache(ctx, pc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(ctx) }()

	// rounds waits for n more polls (a kick each).
	rounds := func(n int64) {
		t.Helper()
		want := pc.versions.Load() + n
		for pc.versions.Load() < want {
			c.Kick()
			select {
			case <-ctx.Done():
				t.Fatalf("%d of %d polls in 20 s", pc.versions.Load(), want)
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	rounds(3)
	if n := pc.spends.Load(); n != 0 {
		t.Fatalf("empty database: %d spend polls, want 0", n)
	}
	if err := st.Put(ctx, Row{Kind: KindUser, ID: "u", Data: []byte(`{"max_budget":5}`)}, true); err != nil {
		t.Fatal(err)
	}
	rounds(3) // the first sees the new version and reloads; the next poll spend
	if pc.spends.Load() == 0 {
		t.Fatal("database with a record: its spend is never polled")
	}
}
