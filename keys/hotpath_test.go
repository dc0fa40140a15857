package keys

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"
)

// TestHotPathAllocatesNothing pins what a request with a database key
// does in the request goroutine: look the key up, check its budgets,
// read its spend and add an answer's cost and log. None allocates (the
// spend log ring grows once, then reuses its slots); writing to the
// database happens in the cache's loop.
func TestHotPathAllocatesNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := Open(ctx, "sqlite:///"+filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b, uid := 5.0, "u"
	data, _ := json.Marshal(Key{KeyName: "sk-...abcd", UserID: &uid, Account: Account{Limits: Limits{MaxBudget: &b}}})
	_ = st.Put(ctx, Row{Kind: KindUser, ID: "u", Data: []byte(`{"max_budget":5}`)}, true)
	if err := st.Put(ctx, Row{Kind: KindKey, ID: Hash("sk-test-abcd"), Data: data}, true); err != nil {
		t.Fatal(err)
	}
	c, err := NewCache(ctx, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(ctx) }()
	d, _ := digestOf(Hash("sk-test-abcd"))
	u := Usage{RequestID: []byte("req-1"), Model: "m", Cost: 1e-9, PromptTokens: 1, CompletionTokens: 1, Start: time.Now(), End: time.Now()}
	e := c.Lookup(&d)
	if e == nil || e.User == nil {
		t.Fatal("key or its user not cached")
	}
	// Stop the loop: its writes allocate, and AllocsPerRun counts
	// every goroutine's.
	c.once.Do(func() { close(c.stop) })
	<-c.done
	for i := 0; i < maxSpendLogs; i++ {
		c.logs.add(e, &u) // grow the ring to its bound
	}
	now := time.Now().UnixMilli()
	allocs := testing.AllocsPerRun(1000, func() {
		e := c.Lookup(&d)
		if e.Usable(now) != "" || e.OverBudget(now) != "" {
			t.Fatal("refused")
		}
		_ = e.KeySpend(now)
		c.AddSpend(e, &u)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per request, want 0", allocs)
	}
}
