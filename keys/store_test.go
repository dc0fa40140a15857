package keys_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/keys"
	"github.com/llmedge/llmedge/keys/keystest"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func openStore(t *testing.T, engine string) (keys.Store, string) {
	t.Helper()
	u := keystest.URL(t, engine)
	s, err := keys.Open(ctxT(t), u)
	if err != nil {
		t.Fatalf("open %s: %v", engine, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, u
}

// TestStoreRecords pins the store contract on both engines: create,
// update keeping spend, the change version, spend added in batches,
// rekeying with spend, conditional reset, deletes, spend logs and a
// second open (migrations already applied) seeing it all.
func TestStoreRecords(t *testing.T) {
	for _, engine := range keystest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := ctxT(t)
			s, u := openStore(t, engine)
			if s.Engine() != engine {
				t.Fatalf("engine %q", s.Engine())
			}
			v0, err := s.Version(ctx)
			if err != nil {
				t.Fatal(err)
			}
			r := keys.Row{Kind: keys.KindKey, ID: "aa", Data: []byte(`{"key_alias":"a"}`), ResetAt: 1000}
			if err := s.Put(ctx, r, true); err != nil {
				t.Fatal(err)
			}
			if err := s.Put(ctx, r, true); !errors.Is(err, keys.ErrExists) {
				t.Fatalf("second create: %v, want ErrExists", err)
			}
			if err := s.Put(ctx, keys.Row{Kind: keys.KindKey, ID: "nope", Data: []byte(`{}`)}, false); !errors.Is(err, keys.ErrNotFound) {
				t.Fatalf("update of a missing record: %v, want ErrNotFound", err)
			}
			if v, _ := s.Version(ctx); v <= v0 {
				t.Fatalf("version %d after a change, was %d", v, v0)
			}
			logs := []keys.SpendLog{{RequestID: "r1", APIKey: "aa", Model: "m", Spend: 0.25, PromptTokens: 3, CompletionTokens: 4, StartTime: time.Now(), EndTime: time.Now()}}
			if err := s.AddSpend(ctx, []keys.Delta{{Kind: keys.KindKey, ID: "aa", Spend: 0.25}, {Kind: keys.KindKey, ID: "aa", Spend: 0.5}}, logs); err != nil {
				t.Fatal(err)
			}
			r.Data = []byte(`{"key_alias":"b"}`)
			if err := s.Put(ctx, r, false); err != nil {
				t.Fatal(err)
			}
			_, rows, err := s.Rows(ctx)
			if err != nil || len(rows) != 1 || rows[0].Spend != 0.75 || string(rows[0].Data) != `{"key_alias":"b"}` {
				t.Fatalf("rows %+v, %v: want one row with spend 0.75 kept across the update", rows, err)
			}
			if err := s.Rekey(ctx, "aa", keys.Row{Kind: keys.KindKey, ID: "bb", Data: r.Data, ResetAt: 1000}); err != nil {
				t.Fatal(err)
			}
			if err := s.ResetSpend(ctx, keys.KindKey, "bb", 999, 5000); err != nil {
				t.Fatal(err)
			}
			sp, _ := s.Spends(ctx)
			if len(sp) != 1 || sp[0].ID != "bb" || sp[0].Spend != 0.75 || sp[0].ResetAt != 1000 {
				t.Fatalf("after rekey and a stale reset: %+v", sp)
			}
			if err := s.ResetSpend(ctx, keys.KindKey, "bb", 1000, 5000); err != nil {
				t.Fatal(err)
			}
			sp, _ = s.Spends(ctx)
			if sp[0].Spend != 0 || sp[0].ResetAt != 5000 {
				t.Fatalf("after reset: %+v", sp)
			}
			got, err := s.SpendLogs(ctx, keys.SpendFilter{APIKey: "aa"})
			if err != nil || len(got) != 1 || got[0].TotalTokens != 7 || got[0].RequestID != "r1" {
				t.Fatalf("spend logs %+v, %v", got, err)
			}
			if none, _ := s.SpendLogs(ctx, keys.SpendFilter{APIKey: "zz"}); len(none) != 0 {
				t.Fatalf("filter ignored: %+v", none)
			}
			gone, err := s.Delete(ctx, keys.KindKey, []string{"bb", "missing"})
			if err != nil || len(gone) != 1 || gone[0] != "bb" {
				t.Fatalf("delete: %v %v", gone, err)
			}
			// A second gateway on the same database finds the schema current.
			s2, err := keys.Open(ctx, u)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			defer s2.Close()
			if _, rows, _ := s2.Rows(ctx); len(rows) != 0 {
				t.Fatalf("rows after delete: %+v", rows)
			}
		})
	}
}

func TestOpenRefusesUnknownScheme(t *testing.T) {
	for _, u := range []string{"mysql://u:secretpw@h/db", "sqlite:///"} {
		_, err := keys.Open(context.Background(), u)
		if err == nil {
			t.Fatalf("%s opened", u)
		}
		if strings.Contains(err.Error(), "secretpw") {
			t.Fatalf("error quotes the password: %v", err)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"30s": 30 * time.Second, "1h": time.Hour, "30d": 30 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "1mo": 30 * 24 * time.Hour} {
		if got, err := keys.ParseDuration(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "h", "0s", "-1s", "1y", "1.5h"} {
		if _, err := keys.ParseDuration(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestSpendLogsBatch: a batch of spend logs larger than one INSERT's
// rows (spendLogsPerInsert) is written whole, every field kept, on
// both engines.
func TestSpendLogsBatch(t *testing.T) {
	for _, engine := range keystest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := ctxT(t)
			s, _ := openStore(t, engine)
			start := time.UnixMilli(1_700_000_000_000)
			logs := make([]keys.SpendLog, 1203)
			for i := range logs {
				logs[i] = keys.SpendLog{RequestID: fmt.Sprintf("r%d", i), APIKey: "k", Model: "m", Spend: 0.5, PromptTokens: int64(i), CompletionTokens: 1,
					StartTime: start.Add(time.Duration(i) * time.Millisecond), EndTime: start.Add(time.Second), User: "u", TeamID: "t"}
			}
			if err := s.AddSpend(ctx, nil, logs); err != nil {
				t.Fatal(err)
			}
			got, err := s.SpendLogs(ctx, keys.SpendFilter{APIKey: "k"})
			if err != nil || len(got) != len(logs) {
				t.Fatalf("%d logs back, %v; want %d", len(got), err, len(logs))
			}
			last := got[0] // newest first
			if last.RequestID != "r1202" || last.PromptTokens != 1202 || last.TotalTokens != 1203 || last.User != "u" || last.TeamID != "t" ||
				!last.StartTime.Equal(start.Add(1202*time.Millisecond)) {
				t.Fatalf("newest log %+v", last)
			}
		})
	}
}
